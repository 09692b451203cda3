import { isUtf8 } from 'node:buffer';
import type http from 'node:http';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { z } from 'zod';
import { marketUserChannel } from '../../domain/market/feed';
import { listenLocally } from '../../infra/auction-feed';
import { TOPICS, topicKey, type Subscription, type Topic } from './topics';
import { verifyClaims, type Principal } from '../auth';
import { describeTextViolation, findTextViolation } from '../../domain/text';
import { can } from '../../domain/capabilities';
import type { ApiDeps } from '../deps';
import { ApiError } from '../errors';

export const MARKET_WS_PATH = '/v1/ws';

const exactlyOne = (m: { market?: string; lot?: string; show?: string }) =>
  [m.market, m.lot, m.show].filter((x) => x !== undefined).length === 1;
/** subscribe/unsubscribe name exactly one of a market, a lot or a show. */
const Named = <T extends z.ZodType<string>>(op: 'subscribe' | 'unsubscribe', market: T, lot: T, show: T) =>
  z.strictObject({ op: z.literal(op), market: market.optional(), lot: lot.optional(), show: show.optional() }).refine(exactlyOne);
const Loose = z.string().max(64);
const ClientMessage = z.union([
  Named(
    'subscribe',
    z.string().regex(/^mk_[a-z0-9]{8,40}$/),
    z.string().regex(/^lot_[a-z0-9]{8,40}$/),
    z.string().regex(/^show_[a-z0-9]{8,40}$/),
  ),
  Named('unsubscribe', Loose, Loose, Loose),
  z.strictObject({ op: z.literal('auth'), token: z.string().min(10).max(4096) }),
]);
const BAD_MESSAGE = 'expected {op:"subscribe"|"unsubscribe", market|lot|show} or {op:"auth", token}';

/** The topic a subscribe/unsubscribe frame names. */
function topicOf(m: { market?: string; lot?: string; show?: string }): Topic {
  if (m.market !== undefined) return { kind: 'market', id: m.market };
  if (m.lot !== undefined) return { kind: 'lot', id: m.lot };
  return { kind: 'show', id: m.show! };
}

/** A client sending more than this many frames in a second is disconnected (close code 1008). */
const MAX_FRAMES_PER_SECOND = 50;

/** More sockets than this from one client address are refused (close code 1013, try again later). */
const MAX_SOCKETS_PER_ADDRESS = 1000;

/** The close code sent on shutdown: the service is restarting, reconnect (RFC 6455 registry). */
export const SERVICE_RESTART = 1012;
const CLOSE_HANDSHAKE_MS = 2000;

/** Past this much unsent data a slow watcher skips intermediate market states (it gets the next one). */
const SLOW_CLIENT_BYTES = 1 << 20;

class Connection {
  /** By topic key (`market:<id>`, `lot:<id>`, `show:<id>`). */
  readonly subscriptions = new Map<string, Subscription>();
  principal: Principal | null = null;
  userSeq = 0;
  unsubscribeUser: (() => Promise<void>) | null = null;
  /** Fires when the token expires: private delivery stops until the client sends a fresh one. */
  expiryTimer: NodeJS.Timeout | null = null;
  alive = true;
  private frameWindowStartedAt = 0;
  private framesInWindow = 0;
  constructor(readonly ws: WebSocket) {}

  /** Counts a frame from the client; false once it sends faster than it may. */
  admitFrame(now: number): boolean {
    if (now - this.frameWindowStartedAt >= 1000) {
      this.frameWindowStartedAt = now;
      this.framesInWindow = 0;
    }
    return ++this.framesInWindow <= MAX_FRAMES_PER_SECOND;
  }

  async dropPrincipal(): Promise<void> {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    this.principal = null;
    const unsubscribe = this.unsubscribeUser;
    this.unsubscribeUser = null;
    if (unsubscribe) await unsubscribe();
  }

  send(message: unknown): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /**
   * Sends a published message to one subscription, if it is news to it. `texts` caches the frame's
   * JSON across the subscribers of one send-out: the frames differ only in `seq`, appended last.
   */
  deliver(sub: Subscription, message: unknown, texts?: Map<unknown, string>): void {
    if (this.ws.bufferedAmount > SLOW_CLIENT_BYTES) return; // a slow watcher gets the next, whole, view
    const frame = TOPICS[sub.topic.kind].deliver(sub, message);
    if (!frame) return;
    if (this.ws.readyState !== WebSocket.OPEN) return void ++sub.seq;
    let text = texts?.get(message);
    if (text === undefined) {
      text = JSON.stringify(frame);
      texts?.set(message, text);
    }
    this.ws.send(`${text.slice(0, -1)},"seq":${++sub.seq}}`);
  }
}

/**
 * At most one send-out per `gapMs` per channel, with the newest message of each key (a lot) since
 * the last: on a hot lot watchers get the latest whole view at most every gapMs instead of one
 * frame per bid, which is what lets one instance keep hundreds of watchers current. The first
 * message after a quiet spell goes out at once.
 */
function conflated(rule: { gapMs: number; key: (message: unknown) => string }, sendOut: (messages: unknown[]) => void) {
  const pending = new Map<string, unknown>();
  let lastSentAt = -Infinity;
  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    timer = null;
    lastSentAt = Date.now();
    const messages = [...pending.values()];
    pending.clear();
    sendOut(messages);
  };
  return (message: unknown) => {
    pending.set(rule.key(message), message);
    if (timer) return;
    const wait = lastSentAt + rule.gapMs - Date.now();
    if (wait <= 0) flush();
    else timer = setTimeout(flush, wait);
  };
}

/**
 * Live market and auction data over WebSocket on the API's own HTTP server (topics: ./topics.ts).
 * Every API instance subscribes to the pub/sub feed of the markets, lots and shows its clients
 * watch, so any instance can serve any of them. For a market:
 * subscribe → a snapshot of the committed book, then conflated updates (≤ 10/s, newer versions
 * only, gap-free seq). With a JWT (`?token=` or an `auth` message) the client also receives its
 * own order and fill events.
 */
export function attachMarketGateway(server: http.Server, deps: ApiDeps): () => Promise<void> {
  const wss = new WebSocketServer({ server, path: MARKET_WS_PATH, maxPayload: 16 * 1024 });
  const watchers = new Map<string, { conns: Set<Connection>; unsubscribe: Promise<() => Promise<void>> }>();

  // One pub/sub subscription per channel per instance, shared by every connection watching it.
  const watch = async (sub: Subscription, conn: Connection) => {
    const channel = TOPICS[sub.topic.kind].channel(sub.topic.id);
    const key = topicKey(sub.topic);
    let entry = watchers.get(channel);
    if (!entry) {
      const conns = new Set<Connection>();
      const sendOut = (messages: unknown[]) => {
        for (const message of messages) {
          const texts = new Map<unknown, string>();
          for (const c of conns) {
            const s = c.subscriptions.get(key);
            if (!s) continue;
            if (s.ready) c.deliver(s, message, texts);
            else s.buffered.push(message);
          }
        }
      };
      const spec = TOPICS[sub.topic.kind];
      const handler = spec.conflate ? conflated(spec.conflate, sendOut) : (m: unknown) => sendOut([m]);
      // A lot's or show's change this instance published comes at once (listenLocally) and again
      // from Redis: only what is newer than the channel has already had goes on, so the copy neither
      // reaches a subscriber nor delays the next update behind the conflation gap.
      const newest = new Map<string, number>();
      const fresh = (m: unknown) => {
        const v = spec.feedVersion?.(m);
        if (v) {
          if (v.version <= (newest.get(v.key) ?? -1)) return;
          newest.set(v.key, v.version);
        }
        handler(m);
      };
      const stopLocal = spec.feedVersion ? listenLocally(deps.pubsub, channel, fresh) : () => {};
      const unsubscribe = deps.pubsub.subscribe(channel, fresh).then((stop) => async () => {
        stopLocal();
        await stop();
      });
      entry = { conns, unsubscribe };
      watchers.set(channel, entry);
    }
    entry.conns.add(conn);
    await entry.unsubscribe;
  };

  const unwatch = async (topic: Topic, conn: Connection) => {
    const channel = TOPICS[topic.kind].channel(topic.id);
    const entry = watchers.get(channel);
    if (!entry) return;
    entry.conns.delete(conn);
    if (entry.conns.size === 0) {
      watchers.delete(channel);
      await (
        await entry.unsubscribe
      )();
    }
  };

  const subscribe = async (conn: Connection, topic: Topic) => {
    const key = topicKey(topic);
    if (conn.subscriptions.has(key)) return;
    const sub: Subscription = { topic, seq: 0, versions: new Map(), ready: false, buffered: [] };
    conn.subscriptions.set(key, sub);
    // Listen first, then read the snapshot: anything published meanwhile is newer or already in it.
    await watch(sub, conn);
    const snapshot = await TOPICS[topic.kind].snapshot(deps, sub);
    if ('error' in snapshot) {
      conn.subscriptions.delete(key);
      await unwatch(topic, conn);
      conn.send(snapshot.error);
      return;
    }
    conn.send({ ...snapshot.frame, seq: ++sub.seq });
    sub.ready = true;
    for (const m of sub.buffered.splice(0)) conn.deliver(sub, m);
  };

  const unsubscribe = async (conn: Connection, topic: Topic) => {
    conn.subscriptions.delete(topicKey(topic));
    await unwatch(topic, conn);
  };

  const authenticate = async (conn: Connection, token: string) => {
    let principal: Principal;
    let expiresAtMs: number;
    try {
      ({ principal, expiresAtMs } = await verifyClaims(deps, token));
    } catch (err) {
      conn.send({ type: 'error', code: err instanceof ApiError ? err.code : 'invalid_token', message: 'The token is not valid' });
      return;
    }
    if (!can(principal.roles, 'market:read')) {
      conn.send({ type: 'error', code: 'forbidden', message: 'This needs the market:read capability' });
      return;
    }
    await conn.dropPrincipal();
    conn.principal = principal;
    conn.unsubscribeUser = await deps.pubsub.subscribe(marketUserChannel(principal.userId), (m) => {
      conn.send({ ...(m as object), seq: ++conn.userSeq });
    });
    conn.expiryTimer = setTimeout(() => enqueueFor(conn, () => expire(conn)), Math.max(0, expiresAtMs - Date.now()));
    conn.expiryTimer.unref();
    conn.send({ type: 'authenticated', userId: principal.userId, expiresAt: new Date(expiresAtMs).toISOString() });
  };

  const expire = async (conn: Connection) => {
    await conn.dropPrincipal();
    conn.send({
      type: 'error',
      code: 'token_expired',
      message: 'The token has expired; send {op:"auth", token} with a fresh one to keep receiving your events',
    });
  };

  const queues = new WeakMap<Connection, (fn: () => Promise<void>) => void>();
  const enqueueFor = (conn: Connection, fn: () => Promise<void>) => queues.get(conn)?.(fn);

  const connections = new Set<Connection>();
  const socketsPerAddress = new Map<string, number>();
  wss.on('connection', (ws, req) => {
    const address = req.socket.remoteAddress ?? 'unknown';
    const open = (socketsPerAddress.get(address) ?? 0) + 1;
    if (open > MAX_SOCKETS_PER_ADDRESS) {
      ws.close(1013, 'too many connections from this address');
      return;
    }
    socketsPerAddress.set(address, open);
    ws.once('close', () => {
      const left = (socketsPerAddress.get(address) ?? 1) - 1;
      if (left > 0) socketsPerAddress.set(address, left);
      else socketsPerAddress.delete(address);
    });
    const conn = new Connection(ws);
    connections.add(conn);
    ws.on('pong', () => {
      conn.alive = true;
    });
    let chain: Promise<unknown> = Promise.resolve();
    // Handle a client's messages one at a time, in order.
    const enqueue = (fn: () => Promise<void>) => {
      chain = chain.then(fn).catch((err) => {
        deps.logger.warn({ err }, 'websocket message failed');
        conn.send({ type: 'error', code: 'internal_error', message: 'Something went wrong on our side' });
      });
    };
    queues.set(conn, enqueue);
    const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
    if (token) enqueue(() => authenticate(conn, token));
    ws.on('message', (data: RawData) => {
      if (!conn.admitFrame(Date.now())) {
        ws.close(1008, 'too many messages');
        return;
      }
      let parsed: z.infer<typeof ClientMessage>;
      try {
        const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
        if (!isUtf8(bytes)) throw new Error('not UTF-8');
        const frame: unknown = JSON.parse(bytes.toString('utf8'));
        const violation = findTextViolation(frame);
        if (violation) {
          conn.send({ type: 'error', code: 'invalid_text', message: describeTextViolation(violation) });
          return;
        }
        parsed = ClientMessage.parse(frame);
      } catch {
        conn.send({ type: 'error', code: 'bad_message', message: BAD_MESSAGE });
        return;
      }
      if (parsed.op === 'subscribe') enqueue(() => subscribe(conn, topicOf(parsed)));
      else if (parsed.op === 'unsubscribe') enqueue(() => unsubscribe(conn, topicOf(parsed)));
      else if ('token' in parsed) enqueue(() => authenticate(conn, parsed.token));
    });
    ws.on('close', () => {
      connections.delete(conn);
      enqueue(async () => {
        for (const sub of [...conn.subscriptions.values()]) await unwatch(sub.topic, conn);
        conn.subscriptions.clear();
        await conn.dropPrincipal();
      });
    });
    ws.on('error', () => ws.terminate());
  });

  // Drop connections that stopped answering pings (a phone that went into a tunnel).
  const pinger = setInterval(() => {
    for (const conn of connections) {
      if (!conn.alive) conn.ws.terminate();
      conn.alive = false;
      conn.ws.ping();
    }
  }, 30_000);
  pinger.unref();

  // On shutdown every client is told to reconnect (1012 "service restart": another instance serves
  // the same topics, with a fresh snapshot); a client that does not finish the close handshake
  // within a moment is cut.
  return async () => {
    clearInterval(pinger);
    const closing = [...wss.clients].map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => ws.terminate(), CLOSE_HANDSHAKE_MS);
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          ws.close(SERVICE_RESTART, 'service restart: reconnect');
        }),
    );
    await Promise.all(closing);
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    for (const [, entry] of watchers) await (await entry.unsubscribe)();
    watchers.clear();
  };
}
