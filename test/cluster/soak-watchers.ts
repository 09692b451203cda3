import WebSocket from 'ws';

/** One WebSocket session: what it saw of each market, in order. */
interface Session {
  url: string;
  seqs: Map<string, number[]>;
  closeCode: number | null;
}

/**
 * A market watcher that stays subscribed across instance restarts: when its socket closes (1012
 * on a graceful shutdown, an abnormal close on a SIGKILL) it reconnects to the next API instance
 * and subscribes again. Every session's sequence numbers must run 1, 2, 3… without a gap: a new
 * session starts again from the snapshot.
 */
export class MarketWatcher {
  readonly sessions: Session[] = [];
  private stopped = false;
  private ws: WebSocket | null = null;
  private attempt = 0;

  constructor(
    private readonly urls: readonly string[],
    private readonly markets: readonly string[],
    private readonly first: number,
  ) {
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const url = this.urls[(this.first + this.sessions.length + this.attempt) % this.urls.length];
    const session: Session = { url, seqs: new Map(this.markets.map((m) => [m, []])), closeCode: null };
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/ws`);
    this.ws = ws;
    let opened = false;
    ws.on('open', () => {
      opened = true;
      this.attempt = 0;
      this.sessions.push(session);
      for (const market of this.markets) ws.send(JSON.stringify({ op: 'subscribe', market }));
    });
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (typeof m.seq === 'number' && typeof m.market === 'string') session.seqs.get(m.market)?.push(m.seq);
    });
    ws.on('error', () => {});
    ws.on('close', (code) => {
      session.closeCode = code;
      if (!opened) this.attempt++;
      if (!this.stopped) setTimeout(() => this.connect(), opened ? 50 : 300);
    });
  }

  /** Sessions that reconnected after their instance went away. */
  get reconnects(): number {
    return Math.max(0, this.sessions.length - 1);
  }

  /** Frames received in all sessions. */
  get frames(): number {
    return this.sessions.reduce((n, s) => n + [...s.seqs.values()].reduce((k, seqs) => k + seqs.length, 0), 0);
  }

  /** Each (session, market) whose seqs are not 1..n, with what it saw. */
  gaps(): string[] {
    const out: string[] = [];
    for (const [i, s] of this.sessions.entries()) {
      for (const [market, seqs] of s.seqs) {
        if (seqs.some((seq, k) => seq !== k + 1)) out.push(`session ${i} (${s.url}) ${market}: ${seqs.slice(0, 30).join(',')}`);
      }
    }
    return out;
  }

  stop(): void {
    this.stopped = true;
    this.ws?.close();
  }
}
