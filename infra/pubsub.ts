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
    this.subscriber = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 3 });
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
