/**
 * A real server for the web console, and a headless Chromium to drive it:
 * shared by the browser tests (test/web/) and `npm run screenshots`.
 *
 *  - startConsoleServer(): `modelhost serve` in this process on a temporary
 *    copy of ./models, with a temporary registry, on a free port;
 *  - launchChromium(): Debian's chromium through playwright-core (never a
 *    downloaded browser), quiet on the network;
 *  - watchPage(): every console error and uncaught exception of a page.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Logger } from '../serving/log.js';
import { packageRoot } from '../runtime/package_root.js';
import { startServer, type RunningServer } from '../server/serve.js';

export const ROOT = packageRoot();

/** The upload fixture: TF Serving's half_plus_two (y = 0.5x + 2). */
export const HALF_PLUS_TWO = path.resolve(ROOT, '../shared/fixtures/tf-serving/saved_model_half_plus_two_cpu/00000123');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** CHROMIUM_PATH, else the first of the usual Debian/Ubuntu paths that exists. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((p): p is string => !!p && fs.existsSync(p));
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('No Chromium found: install it (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH.');
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 30_000 });
}

export interface ConsoleServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly modelsDir: string;
  stop(): Promise<void>;
}

const quiet: Logger = { info() {}, warn() {}, error() {} };

/** Serves a temporary copy of ./models with a temporary registry on 127.0.0.1 and a free port. */
export async function startConsoleServer(options: { adminToken?: string; log?: Logger } = {}): Promise<ConsoleServer> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-console-'));
  const modelsDir = path.join(tmp, 'models');
  fs.cpSync(path.join(ROOT, 'models'), modelsDir, { recursive: true });
  let server: RunningServer;
  try {
    server = await startServer({
      models: { kind: 'models_dir', dir: modelsDir, pollSeconds: 0.5 },
      restApiPort: 0,
      restApiHost: '127.0.0.1',
      fileSystemPollWaitSeconds: 0.5,
      registry: { path: path.join(tmp, 'data', 'registry.db'), modelsDir, adminToken: options.adminToken },
      log: options.log ?? quiet,
    });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return {
    server,
    url: server.url,
    modelsDir,
    async stop() {
      await server.stop(5_000);
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Collects what must never happen in the console: console errors and uncaught exceptions. */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console.error: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  return problems;
}
