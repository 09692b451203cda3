import { EventEmitter } from 'node:events';
import Redis from 'ioredis';

/**
 * Fan-out of live events (prices, trades, order updates) to every API instance.
 * Redis pub/sub when REDIS_URL is set; in one process, an in-memory emitter does the same job.
 */
export interface PubSub {
  publish(channel: string, message: unknown): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(channel: string, handler: (message: unknown) => void): Promise<() => Promise<void>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class InMemoryPubSub implements PubSub {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async publish(channel: string, message: unknown): Promise<void> {
    // Serialise like Redis would, so both behave the same for subscribers.
    const copy = JSON.parse(JSON.stringify(message));
    queueMicrotask(() => this.emitter.emit(channel, copy));
  }

  async subscribe(channel: string, handler: (message: unknown) => void): Promise<() => Promise<void>> {
    this.emitter.on(channel, handler);
    return async () => {
      this.emitter.off(channel, handler);
    };
  }

  async ping(): Promise<void> {}
  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

export class RedisPubSub implements PubSub {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly handlers = new Map<string, Set<(message: unknown) => void>>();
  private readonly subscribed = new Map<string, Promise<void>>();

  constructor(url: string) {
    // Publishes from one tick (an engine batch fans out to many users) share one round trip.
    this.publisher = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3, enableAutoPipelining: true });
    // No CLIENT SETINFO and no ready check (INFO) on the subscriber: ioredis 5.8.2+ can send them
    // after a SUBSCRIBE issued while connecting, Redis refuses them on a subscriber connection, and
    // ioredis drops the connection, losing what is published meanwhile (redis/ioredis#2037, fixed in
    // 6.x). A subscriber connection has no use for either.
    this.subscriber = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3, disableClientInfo: true, enableReadyCheck: false });
    this.subscriber.on('message', (channel: string, raw: string) => {
      const handlers = this.handlers.get(channel);
      if (!handlers) return;
      const message = JSON.parse(raw);
      for (const handler of handlers) handler(message);
    });
  }

  get client(): Redis {
    return this.publisher;
  }

  async publish(channel: string, message: unknown): Promise<void> {
    await this.publisher.publish(channel, JSON.stringify(message));
  }

  async subscribe(channel: string, handler: (message: unknown) => void): Promise<() => Promise<void>> {
    let handlers = this.handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.handlers.set(channel, handlers);
      const confirmed = this.subscriber.subscribe(channel).then(
        () => undefined,
        (err: unknown) => {
          this.handlers.delete(channel);
          this.subscribed.delete(channel);
          throw err;
        },
      );
      this.subscribed.set(channel, confirmed);
    }
    handlers.add(handler);
    // A second subscriber to a channel whose SUBSCRIBE is still in flight waits for it too:
    // until Redis confirms, messages on the channel are not delivered to anyone.
    await this.subscribed.get(channel);
    return async () => {
      const set = this.handlers.get(channel);
      if (!set) return;
      set.delete(handler);
      if (set.size === 0) {
        this.handlers.delete(channel);
        this.subscribed.delete(channel);
        await this.subscriber.unsubscribe(channel);
      }
    };
  }

  async ping(): Promise<void> {
    await this.publisher.ping();
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }
}

export function createPubSub(redisUrl?: string): PubSub {
  return redisUrl ? new RedisPubSub(redisUrl) : new InMemoryPubSub();
}

/** One message of a bounded buffer: `n` counts every message ever appended to it (1, 2, …, no gaps). */
export interface BufferedEntry {
  n: number;
  message: unknown;
}

/** Buffers nobody appends to for this long are dropped (Redis). */
const BUFFER_TTL_SECONDS = 86_400;

// KEYS: counter, list, newest version; ARGV: channel, message JSON, max entries, ttl, version (or
// ''). Atomic in Redis: a message is both published and buffered, or neither — a buffer never
// silently misses a published message. With a version, only a message newer than every one that
// went out before goes out (publishers in other processes race to the channel): 0 when refused.
const PUBLISH_BUFFERED = `
if ARGV[5] ~= '' then
  local newest = redis.call('GET', KEYS[3])
  if newest and tonumber(ARGV[5]) <= tonumber(newest) then return 0 end
  redis.call('SET', KEYS[3], ARGV[5], 'EX', ARGV[4])
end
local n = redis.call('INCR', KEYS[1])
redis.call('RPUSH', KEYS[2], '{"n":' .. n .. ',"message":' .. ARGV[2] .. '}')
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return n`;

/** Without Redis, one process's buffers, per pub/sub instance. */
const localBuffers = new WeakMap<PubSub, Map<string, { count: number; newest: number; entries: BufferedEntry[] }>>();

/**
 * Publishes `message` on `channel` and appends it to the bounded buffer `buffer` (the newest `max`
 * kept), shared by every process on the same Redis, so a reader can replay what a subscriber
 * missed. Without Redis the buffer lives in this process (as the pub/sub itself does). With a
 * `version`, the message goes out only if it is newer than every versioned one that went out on
 * this buffer before, so the channel and the buffer stay in version order whoever publishes.
 * Returns whether it went out.
 */
export async function publishBuffered(
  pubsub: PubSub,
  channel: string,
  buffer: string,
  message: unknown,
  max: number,
  version?: number,
): Promise<boolean> {
  if (pubsub instanceof RedisPubSub) {
    const n = await pubsub.client.eval(
      PUBLISH_BUFFERED,
      3,
      `${buffer}:n`,
      buffer,
      `${buffer}:v`,
      channel,
      JSON.stringify(message),
      max,
      BUFFER_TTL_SECONDS,
      version ?? '',
    );
    return n !== 0;
  }
  let buffers = localBuffers.get(pubsub);
  if (!buffers) localBuffers.set(pubsub, (buffers = new Map()));
  let b = buffers.get(buffer);
  if (!b) buffers.set(buffer, (b = { count: 0, newest: -Infinity, entries: [] }));
  if (version !== undefined) {
    if (version <= b.newest) return false;
    b.newest = version;
  }
  b.entries.push({ n: ++b.count, message: JSON.parse(JSON.stringify(message)) });
  if (b.entries.length > max) b.entries.splice(0, b.entries.length - max);
  await pubsub.publish(channel, message);
  return true;
}

/** The buffer's messages, oldest first. */
export async function readBuffered(pubsub: PubSub, buffer: string): Promise<BufferedEntry[]> {
  if (pubsub instanceof RedisPubSub) {
    const raw = await pubsub.client.lrange(buffer, 0, -1);
    return raw.map((r) => JSON.parse(r) as BufferedEntry);
  }
  return [...(localBuffers.get(pubsub)?.get(buffer)?.entries ?? [])];
}
