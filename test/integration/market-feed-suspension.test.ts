import { TOPICS, type Subscription } from '../../api/ws/topics';
import { ConflatingFeed, publishMarketFeed } from '../../activities/market-feed';
import { freshFeedView } from '../../db/market-engine-store';
import { committedView } from '../../db/market-queries';
import { suspendMarket } from '../../db/market-suspension';
import { marketFeedBufferKey, marketFeedChannel, type FeedMessage, type MarketView, type TradeView } from '../../domain/market/feed';
import { RedisPubSub, readBuffered } from '../../infra/pubsub';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { insertTradingMarket } from '../support/markets';
import { eventually } from '../support/temporal';

/**
 * A suspension racing the engine's conflated feed, on real Postgres and Redis, the suspension's
 * step in another process than the engine: the suspension's view goes out at once, the engine's
 * older view never does, and the trades it carried go out on a fresh view of the committed book
 * (suspended) under a version newer than the suspension's.
 */

let tdb: TestDatabase;
const redis: RedisPubSub[] = [];
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => {
  for (const r of redis) await r.close();
  await tdb?.drop();
});

const trade = (quantity: number): TradeView => ({ yesPrice: 600, quantity, kind: 'mint', takerSide: 'YES', takerAction: 'BUY' });

test('the engine view a suspension overtook never goes out; its trades go out on a fresh suspended view', async () => {
  const [engineSide, lifecycleSide, apiSide] = [1, 2, 3].map(() => new RedisPubSub('redis://127.0.0.1:6379'));
  redis.push(engineSide, lifecycleSide, apiSide);
  const marketId = await insertTradingMarket(tdb.db, 'Will this ball be a boundary?', { open: true });

  const heard: FeedMessage[] = [];
  const sub: Subscription = { topic: { kind: 'market', id: marketId }, seq: 0, versions: new Map(), ready: true, buffered: [] };
  const delivered: Array<{ view: MarketView; trades: TradeView[] }> = [];
  const stop = await apiSide.subscribe(marketFeedChannel(marketId), (m) => {
    heard.push(m as FeedMessage);
    const frame = TOPICS.market.deliver(sub, m);
    if (frame) delivered.push(frame as unknown as { view: MarketView; trades: TradeView[] });
  });

  const errors: unknown[] = [];
  const feed = new ConflatingFeed(
    engineSide,
    marketId,
    (err) => errors.push(err),
    () => freshFeedView(tdb.db, marketId),
  );
  const start = await committedView(tdb.db, marketId);
  feed.offer(start, []);
  // The engine's next batch (version + 1, as its commit would take it) traded: held for the price gap.
  await tdb.db('market_engines').where({ market_id: marketId }).increment('version', 1);
  const traded = await committedView(tdb.db, marketId);
  feed.offer({ ...traded, lastPrice: 600, volume: 3 }, [trade(1), trade(2)]);

  // Meanwhile the workflow's suspend step: as activities/market-suspension.ts does it.
  const s = await suspendMarket(tdb.db, marketId);
  expect(s.suspended).toBe(true);
  const suspendedView = await committedView(tdb.db, marketId);
  const wentOut = await publishMarketFeed(lifecycleSide, marketId, {
    type: 'market',
    view: suspendedView,
    trades: [],
    publishedAt: Date.now(),
  });

  const last = await eventually(async () => delivered.find((f) => f.trades.length > 0), 5_000);
  await feed.close();
  expect(last.view.version).toBeGreaterThan(suspendedView.version);
  expect(last.view.suspended).toBe(true);
  expect(last.trades.map((t) => t.quantity)).toEqual([1, 2]);

  const versions = heard.map((m) => m.view.version);
  expect(versions).toEqual([start.version, suspendedView.version, last.view.version]);
  const buffered = (await readBuffered(apiSide, marketFeedBufferKey(marketId))).map((e) => (e.message as FeedMessage).view.version);
  expect(buffered).toEqual(versions);
  expect(delivered.flatMap((f) => f.trades.map((t) => t.quantity))).toEqual([1, 2]);
  expect(wentOut).toBe(true);
  expect(errors).toEqual([]);
  await stop();
});
