import fc from 'fast-check';
import { ConflatingFeed, FEED_MAX_PER_SECOND } from '../../../activities/market-feed';
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

const view = (version: number, bestBid: number): MarketView => marketView('mk_test000000', version, [{ price: bestBid, quantity: version, orders: 1 }], [], null, version);

beforeEach(() => {
  jest.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  jest.useRealTimers();
});

test('a change after a quiet spell goes out at once; changes inside the window wait for its end, merged', () => {
  const pubsub = new RecordingPubSub();
  const feed = new ConflatingFeed(pubsub, 'mk_test000000', (err) => {
    throw err;
  });
  feed.offer(view(1, 100), []);
  expect(pubsub.sent.map((s) => s.message.view.version)).toEqual([1]);

  jest.advanceTimersByTime(30);
  feed.offer(view(2, 150), [{ yesPrice: 150, quantity: 1, kind: 'mint', takerSide: 'NO', takerAction: 'BUY' }]);
  jest.advanceTimersByTime(30);
  feed.offer(view(3, 200), [{ yesPrice: 200, quantity: 2, kind: 'mint', takerSide: 'NO', takerAction: 'BUY' }]);
  expect(pubsub.sent).toHaveLength(1);
  jest.advanceTimersByTime(39);
  expect(pubsub.sent).toHaveLength(1);
  jest.advanceTimersByTime(1);
  expect(pubsub.sent).toHaveLength(2);
  expect(pubsub.sent[1].at - pubsub.sent[0].at).toBe(100);
  // The latest state, with every trade since the previous message.
  expect(pubsub.sent[1].message.view.version).toBe(3);
  expect(pubsub.sent[1].message.trades.map((t) => t.quantity)).toEqual([1, 2]);

  // Quiet for longer than a window: the next change is not held back.
  jest.advanceTimersByTime(250);
  feed.offer(view(4, 250), []);
  expect(pubsub.sent.map((s) => s.message.view.version)).toEqual([1, 3, 4]);
  feed.close();
});

test('for any pattern of changes: at most 10 messages in any second, newest state last, never an older one after a newer', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 180 }), { minLength: 1, maxLength: 150 }), (gaps) => {
      const pubsub = new RecordingPubSub();
      const feed = new ConflatingFeed(pubsub, 'mk_test000000', (err) => {
        throw err;
      });
      let version = 0;
      for (const gap of gaps) {
        jest.advanceTimersByTime(gap);
        version++;
        feed.offer(view(version, 50 + 50 * (version % 18)), []);
      }
      jest.advanceTimersByTime(1_000);
      feed.close();

      const sent = pubsub.sent;
      const versions = sent.map((s) => s.message.view.version);
      for (let i = 1; i < sent.length; i++) {
        expect(versions[i]).toBeGreaterThan(versions[i - 1]);
        expect(sent[i].at - sent[i - 1].at).toBeGreaterThanOrEqual(1000 / FEED_MAX_PER_SECOND);
      }
      for (let i = FEED_MAX_PER_SECOND; i < sent.length; i++) expect(sent[i].at - sent[i - FEED_MAX_PER_SECOND].at).toBeGreaterThanOrEqual(1000);
      // Conflated, not dropped: watchers end on the newest state.
      expect(versions[versions.length - 1]).toBe(version);
      jest.clearAllTimers();
    }),
    { numRuns: 200 },
  );
});
