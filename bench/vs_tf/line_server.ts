/**
 * The child side of line_child.ts's protocol, for the Node children of the
 * bench (compute_child.ts, kernel_child.ts): a `{"ok": true, "ready": true}`
 * line, then one JSON answer line per JSON command line on stdin
 * (`{"ok": true, ...}` or `{"ok": false, "error"}`), until `{"cmd": "quit"}`
 * or the end of stdin.
 */
import readline from 'node:readline';

export type LineHandler = (cmd: Record<string, unknown>) => Promise<Record<string, unknown>>;

export async function answerLines(handle: LineHandler): Promise<void> {
  process.stdout.write(`${JSON.stringify({ ok: true, ready: true })}\n`);
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const cmd = JSON.parse(line) as Record<string, unknown>;
    if (cmd.cmd === 'quit') break;
    let answer: Record<string, unknown>;
    try {
      answer = { ok: true, ...(await handle(cmd)) };
    } catch (e) {
      answer = { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  }
  lines.close();
}

/** Runs a child's main and exits explicitly, so that --cpu-prof writes its profile even with handles open. */
export function runChild(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e instanceof Error ? e.stack : e);
      process.exit(1);
    },
  );
}
