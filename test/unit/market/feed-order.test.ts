import { TOPICS, type Subscription } from '../../../api/ws/topics';
import { ConflatingFeed, PRICE_GAP_MS, publishMarketFeed } from '../../../activities/market-feed';
import {
  marketFeedBufferKey,
  marketFeedChannel,
  marketView,
  type FeedMessage,
  type MarketView,
  type TradeView,
} from '../../../domain/market/feed';
import { InMemoryPubSub, RedisPubSub, readBuffered, type PubSub } from '../../../infra/pubsub';
import { eventually, uniqueId } from '../../support/temporal';

/**
 * A market's feed has more than one publisher: the engine's conflating feed, and the lifecycle
 * steps (suspend, resume, restart, close), which may run in another process. Whatever the race,
 * what goes out on the channel and into the replay buffer is in version order, and every trade
 * reaches a watcher through the gateway's version filter.
 */

const REDIS_URL = 'redis://127.0.0.1:6379';
const redis: RedisPubSub[] = [];
afterAll(async () => {
  for (const r of redis) await r.close();
});

/** The engine's process, the process running the market's lifecycle steps, and an API instance. */
const backends: Array<[string, () => [PubSub, PubSub, PubSub]]> = [
  [
    'Redis, three processes',
    () => {
      const ps: [RedisPubSub, RedisPubSub, RedisPubSub] = [
        new RedisPubSub(REDIS_URL),
        new RedisPubSub(REDIS_URL),
        new RedisPubSub(REDIS_URL),
      ];
      redis.push(...ps);
      return ps;
    },
  ],
  [
    'one process',
    () => {
      const p = new InMemoryPubSub();
      return [p, p, p];
    },
  ],
];

const newMarketId = () => `mk_${uniqueId('').toLowerCase()}`;
const view = (marketId: string, version: number, bestBid: number, suspended = false): MarketView =>
  marketView(marketId, version, [{ price: bestBid, quantity: 1, orders: 1 }], [], null, version, suspended);
const trade = (quantity: number): TradeView => ({ yesPrice: 150, quantity, kind: 'mint', takerSide: 'NO', takerAction: 'BUY' });
const suspension = (marketId: string, version: number): FeedMessage => ({
  type: 'market',
  view: view(marketId, version, 100, true),
  trades: [],
  publishedAt: Date.now(),
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What an API instance hears on the channel, and what one of its subscribers is sent (the gateway's filter). */
async function watch(pubsub: PubSub, marketId: string) {
  const heard: FeedMessage[] = [];
  const sub: Subscription = { topic: { kind: 'market', id: marketId }, seq: 0, versions: new Map(), ready: true, buffered: [] };
  const delivered: Array<{ view: MarketView; trades: TradeView[] }> = [];
  const stop = await pubsub.subscribe(marketFeedChannel(marketId), (m) => {
    heard.push(m as FeedMessage);
    const frame = TOPICS.market.deliver(sub, m);
    if (frame) delivered.push(frame as unknown as { view: MarketView; trades: TradeView[] });
  });
  return { heard, delivered, stop };
}

const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]);

describe.each(backends)('%s', (_name, make) => {
  test('a suspension published while the engine holds a conflated view: the older view never goes out, its trades ride on the next one', async () => {
    const [engineSide, lifecycleSide, apiSide] = make();
    const marketId = newMarketId();
    const w = await watch(apiSide, marketId);
    const errors: unknown[] = [];
    const feed = new ConflatingFeed(engineSide, marketId, (err) => errors.push(err));

    feed.offer(view(marketId, 1, 100), []);
    // A trade inside the price gap: the engine holds it back, conflated…
    feed.offer(view(marketId, 2, 150), [trade(2)]);
    // …while the market is suspended (its version bumped past the engine's) and the lifecycle step
    // tells watchers at once.
    await publishMarketFeed(lifecycleSide, marketId, suspension(marketId, 3));
    await sleep(PRICE_GAP_MS * 3);
    // The engine's next batch (the suspension's cancels) comes later.
    feed.offer(view(marketId, 4, 200, true), [trade(4)]);
    await feed.close();
    await eventually(async () => w.heard.some((m) => m.view.version === 4));
    await sleep(50);

    expect(increasing(w.heard.map((m) => m.view.version))).toBe(true);
    const buffered = (await readBuffered(apiSide, marketFeedBufferKey(marketId))).map((e) => (e.message as FeedMessage).view.version);
    expect(increasing(buffered)).toBe(true);
    expect(buffered).toEqual(w.heard.map((m) => m.view.version));
    // Every trade reached the subscriber, in order.
    expect(w.delivered.flatMap((f) => f.trades.map((t) => t.quantity))).toEqual([2, 4]);
    expect(w.delivered[w.delivered.length - 1].view.version).toBe(4);
    expect(errors).toEqual([]);
    await w.stop();
  });

  test('a superseded view with trades is replaced by a fresh one at once, without waiting for the next batch', async () => {
    const [engineSide, lifecycleSide, apiSide] = make();
    const marketId = newMarketId();
    const w = await watch(apiSide, marketId);
    const refreshed: number[] = [];
    // The engine's fresh view: the committed book under a newly taken version (here, the next one).
    const refresh = async () => {
      refreshed.push(Date.now());
      return view(marketId, 4, 150, true);
    };
    const errors: unknown[] = [];
    const feed = new ConflatingFeed(engineSide, marketId, (err) => errors.push(err), refresh);

    feed.offer(view(marketId, 1, 100), []);
    feed.offer(view(marketId, 2, 150), [trade(2), trade(3)]);
    await publishMarketFeed(lifecycleSide, marketId, suspension(marketId, 3));

    const last = await eventually(async () => w.delivered.find((f) => f.view.version === 4), 3_000);
    expect(last.trades.map((t) => t.quantity)).toEqual([2, 3]);
    expect(last.view.suspended).toBe(true);
    expect(refreshed).toHaveLength(1);
    await feed.close();
    await sleep(50);
    expect(w.heard.map((m) => m.view.version)).toEqual([1, 3, 4]);
    expect(w.delivered.flatMap((f) => f.trades.map((t) => t.quantity))).toEqual([2, 3]);
    expect(errors).toEqual([]);
    await w.stop();
  });

  test('the feed refuses what is not newer than what went out, and buffers only what went out', async () => {
    const [engineSide, lifecycleSide, apiSide] = make();
    const marketId = newMarketId();
    const w = await watch(apiSide, marketId);
    const msg = (v: number): FeedMessage => ({ type: 'market', view: view(marketId, v, 100), trades: [], publishedAt: Date.now() });
    const wentOut = [
      await publishMarketFeed(engineSide, marketId, msg(5)),
      await publishMarketFeed(lifecycleSide, marketId, msg(5)),
      await publishMarketFeed(lifecycleSide, marketId, msg(4)),
      await publishMarketFeed(engineSide, marketId, msg(6)),
    ];
    await eventually(async () => w.heard.some((m) => m.view.version === 6));
    await sleep(50);
    expect(w.heard.map((m) => m.view.version)).toEqual([5, 6]);
    const entries = await readBuffered(apiSide, marketFeedBufferKey(marketId));
    expect(entries.map((e) => [e.n, (e.message as FeedMessage).view.version])).toEqual([
      [1, 5],
      [2, 6],
    ]);
    expect(wentOut).toEqual([true, false, false, true]);
    await w.stop();
  });
});

/** Holds each publish until the test lets it through, as a slow Redis round trip would. */
class SlowPubSub extends InMemoryPubSub {
  private readonly held: Array<() => void> = [];
  override async publish(channel: string, message: unknown): Promise<void> {
    await new Promise<void>((resolve) => this.held.push(resolve));
    await super.publish(channel, message);
  }
  release(): void {
    for (const r of this.held.splice(0)) r();
  }
}

test('one message on its way at a time: a view due before the previous one is answered waits, and a refused one hands its trades on first', async () => {
  jest.useFakeTimers({ now: 1_000_000 });
  try {
    const pubsub = new SlowPubSub();
    const marketId = newMarketId();
    const w = await watch(pubsub, marketId);
    const feed = new ConflatingFeed(pubsub, marketId, (err) => {
      throw err;
    });
    feed.offer(view(marketId, 1, 100), []); // on its way, answered late
    await jest.advanceTimersByTimeAsync(PRICE_GAP_MS);
    feed.offer(view(marketId, 2, 150), [trade(2)]);
    await jest.advanceTimersByTimeAsync(PRICE_GAP_MS); // due, but waits for the answer to the first
    const suspended = publishMarketFeed(pubsub, marketId, suspension(marketId, 3));
    pubsub.release();
    await suspended;
    await jest.advanceTimersByTimeAsync(PRICE_GAP_MS); // the engine's view 2 is refused: 3 went out first
    feed.offer(view(marketId, 4, 200, true), [trade(4)]);
    for (let i = 0; i < 5; i++) {
      pubsub.release();
      await jest.advanceTimersByTimeAsync(PRICE_GAP_MS);
    }
    const closed = feed.close();
    pubsub.release();
    await closed;
    await jest.advanceTimersByTimeAsync(1);

    expect(w.heard.map((m) => m.view.version)).toEqual([1, 3, 4]);
    expect(w.delivered.map((f) => f.trades.map((t) => t.quantity))).toEqual([[], [], [2, 4]]);
    await w.stop();
  } finally {
    jest.useRealTimers();
  }
});
