// Predict requests sent in a loop by a few keep-alive clients until stopped,
// counting every answer and every failure.
import http from 'node:http';

export class Traffic {
  readonly answers = new Map<number, number>();
  readonly failures: string[] = [];
  sent = 0;
  /** The answer the latest successful request got. */
  last = 0;
  private running = true;
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly loops: Promise<void>[];

  /** `expected`: the answers (predictions[0] for x = 1) that count as success. */
  constructor(
    private readonly url: string,
    private readonly expected: readonly number[],
    clients = 4,
  ) {
    this.loops = Array.from({ length: clients }, () => this.loop());
  }

  private send(): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(this.url, { method: 'POST', agent: this.agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end('{"instances": [1.0]}');
    });
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.sent++;
      try {
        const { status, body } = await this.send();
        const answer = status === 200 ? (JSON.parse(body) as { predictions: number[] }).predictions[0] : undefined;
        if (answer === undefined || !this.expected.includes(answer)) this.failures.push(`${status} ${body}`);
        else {
          this.answers.set(answer, (this.answers.get(answer) ?? 0) + 1);
          this.last = answer;
        }
      } catch (e) {
        this.failures.push(String(e));
      }
    }
  }

  /** Resolves once at least `n` more requests have been answered. */
  async passes(n: number): Promise<void> {
    const target = this.sent + n;
    while (this.sent < target) await new Promise((r) => setTimeout(r, 5));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.agent.destroy();
  }
}
