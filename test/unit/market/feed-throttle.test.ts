import fc from 'fast-check';
import { ConflatingFeed, DEPTH_GAP_MS, FEED_MAX_PER_SECOND, PRICE_GAP_MS } from '../../../activities/market-feed';
import { marketView, type FeedMessage, type MarketView } from '../../../domain/market/feed';
import type { PubSub } from '../../../infra/pubsub';

/** The engine's feed throttle, on fake timers: what goes out, and when, for any pattern of changes. */

class RecordingPubSub implements PubSub {
  readonly sent: Array<{ at: number; message: FeedMessage }> = [];
  async publish(_channel: string, message: unknown): Promise<void> {
    this.sent.push({ at: Date.now(), message: message as FeedMessage });
  }
  async subscribe(): Promise<() => Promise<void>> {
    return async () => {};
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

const view = (version: number, bestBid: number): MarketView =>
  marketView('mk_test000000', version, [{ price: bestBid, quantity: version, orders: 1 }], [], null, version);

beforeEach(() => {
  jest.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  jest.useRealTimers();
});

const trade = (quantity: number) => ({ yesPrice: 150, quantity, kind: 'mint', takerSide: 'NO', takerAction: 'BUY' });
/** The same touch, more depth behind it. */
const deeper = (version: number): MarketView =>
  marketView(
    'mk_test000000',
    version,
    [
      { price: 100, quantity: 1, orders: 1 },
      { price: 50, quantity: version, orders: 1 },
    ],
    [],
    null,
    0,
  );
const newFeed = (pubsub: RecordingPubSub) =>
  new ConflatingFeed(pubsub, 'mk_test000000', (err) => {
    throw err;
  });

test('a price move after a quiet spell goes out at once; moves inside the gap wait for its end, merged', async () => {
  const pubsub = new RecordingPubSub();
  const feed = newFeed(pubsub);
  feed.offer(view(1, 100), []);
  expect(pubsub.sent.map((s) => s.message.view.version)).toEqual([1]);

  await jest.advanceTimersByTimeAsync(30);
  feed.offer(view(2, 150), [trade(1)]);
  await jest.advanceTimersByTimeAsync(30);
  feed.offer(view(3, 200), [trade(2)]);
  expect(pubsub.sent).toHaveLength(1);
  await jest.advanceTimersByTimeAsync(39);
  expect(pubsub.sent).toHaveLength(1);
  await jest.advanceTimersByTimeAsync(1);
  expect(pubsub.sent).toHaveLength(2);
  expect(pubsub.sent[1].at - pubsub.sent[0].at).toBe(PRICE_GAP_MS);
  // The latest state, with every trade since the previous message.
  expect(pubsub.sent[1].message.view.version).toBe(3);
  expect(pubsub.sent[1].message.trades.map((t) => t.quantity)).toEqual([1, 2]);

  // Quiet for longer than the gap: the next move is not held back.
  await jest.advanceTimersByTimeAsync(250);
  feed.offer(view(4, 250), []);
  expect(pubsub.sent.map((s) => s.message.view.version)).toEqual([1, 3, 4]);
  await feed.close();
});

test('depth churn never holds a price move back, and rides along with it', async () => {
  const pubsub = new RecordingPubSub();
  const feed = newFeed(pubsub);
  feed.offer(deeper(1), []);
  await jest.advanceTimersByTimeAsync(10);
  feed.offer(deeper(2), []); // depth only: waits for its gap
  await jest.advanceTimersByTimeAsync(DEPTH_GAP_MS - 11);
  expect(pubsub.sent.map((s) => s.message.view.version)).toEqual([1]);
  await jest.advanceTimersByTimeAsync(1);
  expect(pubsub.sent.map((s) => s.message.view.version)).toEqual([1, 2]);

  await jest.advanceTimersByTimeAsync(5);
  feed.offer(deeper(3), []);
  await jest.advanceTimersByTimeAsync(5);
  feed.offer(view(4, 450), []); // the touch moves: out at once, with the depth change in the same view
  expect(pubsub.sent.map((s) => s.message.view.version)).toEqual([1, 2, 4]);
  await jest.advanceTimersByTimeAsync(1_000);
  expect(pubsub.sent).toHaveLength(3);
  await feed.close();
});

test('sustained trading settles to a steady message every 100 ms', async () => {
  const pubsub = new RecordingPubSub();
  const feed = newFeed(pubsub);
  for (let v = 1; v <= 300; v++) {
    feed.offer(view(v, 50 + 50 * (v % 18)), [trade(v)]);
    await jest.advanceTimersByTimeAsync(10);
  }
  const gaps = pubsub.sent.slice(1).map((s, i) => s.at - pubsub.sent[i].at);
  expect(gaps.length).toBeGreaterThanOrEqual(28);
  expect(new Set(gaps)).toEqual(new Set([PRICE_GAP_MS]));
  await feed.close();
});

test('for any pattern of changes: at most 10 messages in any second, gaps kept, newest state last, never an older one after a newer', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ gap: fc.integer({ min: 0, max: 180 }), moves: fc.boolean(), trades: fc.boolean() }), {
        minLength: 1,
        maxLength: 150,
      }),
      async (steps) => {
        const pubsub = new RecordingPubSub();
        const feed = newFeed(pubsub);
        let version = 0;
        for (const step of steps) {
          await jest.advanceTimersByTimeAsync(step.gap);
          version++;
          feed.offer(step.moves ? view(version, 50 + 50 * (version % 18)) : deeper(version), step.trades ? [trade(version)] : []);
        }
        await jest.advanceTimersByTimeAsync(2_000);
        const sentBeforeClose = pubsub.sent.length;
        await feed.close();
        expect(pubsub.sent).toHaveLength(sentBeforeClose); // nothing was left waiting

        const sent = pubsub.sent;
        const versions = sent.map((s) => s.message.view.version);
        for (let i = 1; i < sent.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1]);
        for (let i = FEED_MAX_PER_SECOND; i < sent.length; i++)
          expect(sent[i].at - sent[i - FEED_MAX_PER_SECOND].at).toBeGreaterThanOrEqual(1000);
        // Price moves are PRICE_GAP_MS apart; a depth-only message follows any message by DEPTH_GAP_MS.
        let lastMoveAt = -Infinity;
        for (let i = 0; i < sent.length; i++) {
          const prev = i > 0 ? sent[i - 1].message.view : null;
          const cur = sent[i].message.view;
          const isMove = prev === null || sent[i].message.trades.length > 0 || prev.bestBid !== cur.bestBid || prev.volume !== cur.volume;
          if (isMove) {
            expect(sent[i].at - lastMoveAt).toBeGreaterThanOrEqual(PRICE_GAP_MS);
            lastMoveAt = sent[i].at;
          } else {
            expect(sent[i].at - sent[i - 1].at).toBeGreaterThanOrEqual(DEPTH_GAP_MS);
          }
        }
        // Conflated, not dropped: watchers end on the newest state.
        expect(versions[versions.length - 1]).toBe(version);
        jest.clearAllTimers();
      },
    ),
    { numRuns: 200 },
  );
});
