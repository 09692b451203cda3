import { randomUUID } from 'node:crypto';

export interface Answer {
  status: number;
  body: any;
}

/** One attempt's outcome, timed, so the soak can say what was answered and refused during each fault. */
export interface Attempt {
  at: number;
  ok: boolean;
}

/**
 * The small load balancer in front of the API instances: round robin, and on a refused connection,
 * a reset or a 5xx the same request goes to the next instance with the same
 * Idempotency-Key (what a real client behind a load balancer does), until `deadlineMs` passes.
 */
export class RoundRobinClient {
  private next = 0;
  readonly attempts: Attempt[] = [];
  /** 500 answers (the API should never give one), with their bodies. */
  readonly serverErrors: string[] = [];

  constructor(
    private readonly urls: readonly string[],
    private readonly deadlineMs = 60_000,
  ) {}

  async request(method: string, path: string, opts: { token?: string; body?: unknown; idempotencyKey?: string } = {}): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
    const give = Date.now() + this.deadlineMs;
    let lastError = '';
    for (let attempt = 0; Date.now() < give; attempt++) {
      const url = this.urls[this.next++ % this.urls.length];
      try {
        const res = await fetch(`${url}${path}`, {
          method,
          headers,
          body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
          signal: AbortSignal.timeout(15_000),
        });
        const text = await res.text();
        // A 5xx is retried like a refused connection (the Idempotency-Key makes that safe) and counted:
        // 502–504 are the expected answers of an instance whose Temporal or Redis is away for a moment.
        if (res.status >= 500) {
          lastError = `${res.status} ${text.slice(0, 200)}`;
          if (res.status === 500) this.serverErrors.push(`${method} ${path}: ${text.slice(0, 300)}`);
          this.attempts.push({ at: Date.now(), ok: false });
        } else {
          this.attempts.push({ at: Date.now(), ok: true });
          const body = text ? JSON.parse(text) : null;
          // "Still being processed" means: ask again later. When the instance that claimed the key died
          // mid-request, a retry takes its claim over once the claim's lease runs out (api/idempotency.ts).
          if (res.status === 409 && body?.error?.code === 'request_in_progress' && Date.now() < give) {
            await new Promise((r) => setTimeout(r, 1000));
            continue;
          }
          return { status: res.status, body };
        }
      } catch (err) {
        lastError = String((err as Error).cause ?? err);
        this.attempts.push({ at: Date.now(), ok: false });
      }
      await new Promise((r) => setTimeout(r, Math.min(1000, 100 * 2 ** Math.min(attempt, 4))));
    }
    throw new Error(`${method} ${path}: no instance answered within ${this.deadlineMs} ms (${lastError})`);
  }

  /** POST with a fresh Idempotency-Key reused across every retry of this one request. */
  post(path: string, token: string, body?: unknown): Promise<Answer> {
    return this.request('POST', path, { token, body, idempotencyKey: randomUUID() });
  }

  get(path: string, token: string): Promise<Answer> {
    return this.request('GET', path, { token });
  }
}
