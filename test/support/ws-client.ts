import WebSocket from 'ws';

/** A WebSocket test client that records every message and can wait for one matching a predicate. */
export class WsTestClient {
  readonly messages: any[] = [];
  /** The close code the server sent, once the socket has closed. */
  closeCode: number | null = null;
  private readonly closedPromise: Promise<void>;
  private waiters: Array<{ pred: (m: any) => boolean; resolve: (m: any) => void }> = [];

  private constructor(private readonly ws: WebSocket) {
    this.closedPromise = new Promise((resolve) =>
      ws.once('close', (code) => {
        this.closeCode = code;
        resolve();
      }),
    );
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      m.receivedAt = Date.now();
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }

  static async connect(httpUrl: string, token?: string): Promise<WsTestClient> {
    const url = `${httpUrl.replace(/^http/, 'ws')}/v1/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
    const ws = new WebSocket(url);
    // Listen before the handshake completes: the server's first message can arrive in the same
    // packet as the upgrade response, and is emitted before an `await` on 'open' would resume.
    const client = new WsTestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Resolves with the first message (already received or future) matching `pred`. */
  waitFor(pred: (m: any) => boolean, timeoutMs = 15_000): Promise<any> {
    const seen = this.messages.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`no WebSocket message matching ${pred} within ${timeoutMs} ms; got ${JSON.stringify(this.messages.slice(-5))}`)),
        timeoutMs,
      );
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** Resolves when the socket has closed (from either side). */
  closed(): Promise<void> {
    return this.closedPromise;
  }

  close(): void {
    this.ws.close();
  }
}
