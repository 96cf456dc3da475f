#!/usr/bin/env node
// The `modelhost` command: runs the compiled CLI (npm run build writes dist/).
import { main } from '../dist/server/cli.js';

main(process.argv).catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
