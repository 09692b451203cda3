import { resumeMarketSubscription } from '../../api/ws/market-resume';
import type { Subscription } from '../../api/ws/topics';
import { publishMarketFeed } from '../../activities/market-feed';
import { FEED_BUFFER_SIZE, marketFeedBufferKey, marketFeedChannel, marketView, type FeedMessage } from '../../domain/market/feed';
import { InMemoryPubSub, RedisPubSub, readBuffered, type PubSub } from '../../infra/pubsub';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { insertTradingMarket } from '../support/markets';
import { eventually } from '../support/temporal';

/** The market feed's replay buffer on real Redis (shared by API instances) and in one process, and resuming from it. */

let tdb: TestDatabase;
const redis: RedisPubSub[] = [];
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => {
  for (const r of redis) await r.close();
  await tdb?.drop();
});

const update = (marketId: string, version: number): FeedMessage => ({
  type: 'market',
  view: marketView(marketId, version, [{ price: 500, quantity: version, orders: 1 }], [], 500, version),
  trades: [{ yesPrice: 500, quantity: 1, kind: 'mint', takerSide: 'YES', takerAction: 'BUY' }],
  publishedAt: Date.now(),
});
const newSub = (marketId: string): Subscription => ({
  topic: { kind: 'market', id: marketId },
  seq: 0,
  versions: new Map(),
  ready: false,
  buffered: [],
});

const backends: Array<[string, () => [PubSub, PubSub]]> = [
  [
    'Redis, two API instances',
    () => {
      const a = new RedisPubSub('redis://127.0.0.1:6379');
      const b = new RedisPubSub('redis://127.0.0.1:6379');
      redis.push(a, b);
      return [a, b];
    },
  ],
  [
    'one process',
    () => {
      const p = new InMemoryPubSub();
      return [p, p];
    },
  ],
];

describe.each(backends)('%s', (_name, make) => {
  test('every message is published and buffered together; a resume replays exactly what was missed, with its trades', async () => {
    const [engineSide, apiSide] = make();
    const marketId = await insertTradingMarket(tdb.db, 'Will the next over have a wicket?');
    const live: number[] = [];
    const stop = await apiSide.subscribe(marketFeedChannel(marketId), (m) => live.push((m as FeedMessage).view.version));
    for (const v of [3, 4, 7, 9]) await publishMarketFeed(engineSide, marketId, update(marketId, v));
    await eventually(async () => live.length === 4, 5_000, 10);
    expect(live).toEqual([3, 4, 7, 9]);
    expect((await readBuffered(apiSide, marketFeedBufferKey(marketId))).map((e) => e.n)).toEqual([1, 2, 3, 4]);

    const frames = await resumeMarketSubscription({ db: tdb.db, pubsub: apiSide }, newSub(marketId), 4);
    expect(frames).toEqual([
      { type: 'resumed', market: marketId, status: 'scheduled', fromVersion: 4, replayed: 2 },
      expect.objectContaining({
        type: 'update',
        market: marketId,
        view: expect.objectContaining({ version: 7 }),
        trades: [expect.any(Object)],
      }),
      expect.objectContaining({ type: 'update', view: expect.objectContaining({ version: 9 }) }),
    ]);
    // Up to date: nothing to replay. A version the market never reached: a snapshot instead.
    expect(await resumeMarketSubscription({ db: tdb.db, pubsub: apiSide }, newSub(marketId), 9)).toHaveLength(1);
    expect(await resumeMarketSubscription({ db: tdb.db, pubsub: apiSide }, newSub(marketId), 10)).toBeNull();
    await stop();
  });

  test('the buffer keeps the newest messages only; a subscriber older than all of them gets a snapshot, never a gap', async () => {
    const [engineSide, apiSide] = make();
    const marketId = await insertTradingMarket(tdb.db, 'Will the next over have a wicket?');
    for (let v = 1; v <= FEED_BUFFER_SIZE + 5; v++) await publishMarketFeed(engineSide, marketId, update(marketId, v));
    const entries = await readBuffered(apiSide, marketFeedBufferKey(marketId));
    expect(entries).toHaveLength(FEED_BUFFER_SIZE);
    expect(entries[0].n).toBe(6);
    expect(await resumeMarketSubscription({ db: tdb.db, pubsub: apiSide }, newSub(marketId), 2)).toBeNull();
    const frames = await resumeMarketSubscription({ db: tdb.db, pubsub: apiSide }, newSub(marketId), FEED_BUFFER_SIZE);
    expect(frames!.slice(1).map((f) => (f.view as FeedMessage['view']).version)).toEqual([501, 502, 503, 504, 505]);
  });
});
