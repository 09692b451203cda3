import fc from 'fast-check';
import { marketView, resumeFeed, type FeedMessage } from '../../../domain/market/feed';

const message = (version: number, trades = 0): FeedMessage => ({
  type: 'market',
  view: marketView('mk_test000000', version, [], [], null, version),
  trades: Array.from({ length: trades }, () => ({ yesPrice: 500, quantity: 1, kind: 'mint', takerSide: 'YES', takerAction: 'BUY' })),
  publishedAt: version,
});

/** A bounded buffer of the last `size` of `published` messages, numbered as the pub/sub numbers them. */
const bufferOf = (published: FeedMessage[], size: number) => published.map((m, i) => ({ n: i + 1, message: m })).slice(-size);

test('never a silent gap: a replay is exactly every message newer than the subscriber’s view; otherwise a snapshot', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 60 }), // version steps (the feed skips versions)
      fc.integer({ min: 1, max: 40 }),
      fc.nat(),
      (steps, size, pick) => {
        let v = 0;
        const published = steps.map((s) => message((v += s)));
        // The subscriber saw some published view, or the snapshot before the first one (version 0).
        const seen = [0, ...published.map((m) => m.view.version)];
        const fromVersion = seen[pick % seen.length];
        const missed = published.filter((m) => m.view.version > fromVersion);
        const r = resumeFeed(bufferOf(published, size), fromVersion);
        if (r.kind === 'replay') expect(r.messages).toEqual(missed);
        else {
          // A snapshot only when the buffer really lost something the subscriber needed.
          expect(r.reason).toBe('too_old');
          const kept = new Set(bufferOf(published, size).map((e) => e.message.view.version));
          expect(missed.some((m) => !kept.has(m.view.version)) || (published.length > size && !kept.has(fromVersion))).toBe(true);
        }
      },
    ),
  );
});

test('an empty buffer or a version never published gives a snapshot; an up-to-date subscriber replays nothing', () => {
  expect(resumeFeed([], 3)).toEqual({ kind: 'snapshot', reason: 'unknown_version' });
  const buf = bufferOf([message(2), message(5, 2)], 10);
  expect(resumeFeed(buf, 9)).toEqual({ kind: 'snapshot', reason: 'unknown_version' });
  expect(resumeFeed(buf, 5)).toEqual({ kind: 'replay', messages: [] });
  expect(resumeFeed(buf, 2)).toEqual({ kind: 'replay', messages: [message(5, 2)] });
  // Evicted past the subscriber's view: too old.
  expect(resumeFeed(bufferOf([message(1), message(2), message(3)], 1), 1)).toEqual({ kind: 'snapshot', reason: 'too_old' });
});
