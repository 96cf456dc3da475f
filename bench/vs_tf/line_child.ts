/**
 * A child process that answers one JSON line on stdout for each JSON line
 * on stdin (bench/vs_tf/compute_child.ts, bench/peers/tf_compute.py). Lines
 * on stdout that are not JSON (library chatter) are skipped; stderr is kept
 * for error reports.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import readline from 'node:readline';

export class LineChild {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: ((line: Record<string, unknown> | Error) => void)[] = [];
  private stderr = '';
  private exited = false;

  private constructor(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string | undefined, readonly label: string) {
    this.child = spawn(command, args, { env: { ...process.env, ...env }, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-8000);
    });
    const lines = readline.createInterface({ input: this.child.stdout });
    lines.on('line', (line) => {
      let value: Record<string, unknown>;
      try {
        value = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      this.waiting.shift()?.(value);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      for (const w of this.waiting.splice(0)) w(new Error(`${label} exited (${code ?? signal}):\n${this.stderr.slice(-3000)}`));
    });
  }

  /** Spawns the child and waits for its `{"ready": true}` line. */
  static async start(command: string, args: string[], label: string, env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<LineChild> {
    const c = new LineChild(command, args, env, cwd, label);
    await c.next();
    return c;
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      if (this.exited) {
        reject(new Error(`${this.label} has exited:\n${this.stderr.slice(-3000)}`));
        return;
      }
      this.waiting.push((v) => (v instanceof Error ? reject(v) : resolve(v)));
    });
  }

  /** Sends a command; resolves with the answer, rejects when it says `ok: false`. */
  async ask<T = Record<string, unknown>>(cmd: Record<string, unknown>): Promise<T> {
    const answer = this.next();
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    const a = await answer;
    if (a.ok !== true) throw new Error(`${this.label}: ${String(a.error ?? JSON.stringify(a))}`);
    return a as T;
  }

  /** Asks the child to quit and waits for it to exit (SIGKILL after 20 s). */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin.write(`${JSON.stringify({ cmd: 'quit' })}\n`);
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
}
