import fc from 'fast-check';
import { CANDLE_INTERVAL_MS, marketCandles, type Candle, type CandleInterval } from '../../db/market-candles';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { insertTradingMarket } from '../support/markets';

/** Candles read from market_fills equal a brute-force recomputation over random trade streams. */

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => {
  await tdb?.drop();
});

interface Trade {
  at: number;
  bookSeq: number;
  idx: number;
  price: number;
  qty: number;
}

/** The reference: bucket each trade by floor(at / width), in engine order, and fold. */
function bruteForce(trades: Trade[], interval: CandleInterval, from: number, to: number): Candle[] {
  const width = CANDLE_INTERVAL_MS[interval];
  const inRange = trades.filter((t) => t.at >= from && t.at < to).sort((a, b) => a.bookSeq - b.bookSeq || a.idx - b.idx);
  const buckets = new Map<number, Trade[]>();
  for (const t of inRange) {
    const b = Math.floor(t.at / width) * width;
    buckets.set(b, [...(buckets.get(b) ?? []), t]);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([start, ts]) => ({
      start: new Date(start).toISOString(),
      open: ts[0].price,
      high: Math.max(...ts.map((t) => t.price)),
      low: Math.min(...ts.map((t) => t.price)),
      close: ts[ts.length - 1].price,
      volume: ts.reduce((s, t) => s + t.qty, 0),
      trades: ts.length,
    }));
}

test('random trade streams: every interval and range matches the brute force', async () => {
  const base = Date.parse('2027-01-26T03:30:00.000Z');
  await fc.assert(
    fc.asyncProperty(
      // Batches of fills: each batch shares one commit time (as the engine's do), times move forward.
      fc.array(
        fc.record({
          gapMs: fc.integer({ min: 0, max: 90_000 }),
          fills: fc.array(fc.record({ price: fc.integer({ min: 1, max: 19 }).map((i) => i * 50), qty: fc.integer({ min: 1, max: 50 }) }), {
            minLength: 1,
            maxLength: 4,
          }),
        }),
        { minLength: 1, maxLength: 25 },
      ),
      fc.constantFrom<CandleInterval>('1s', '1m', '5m'),
      fc.integer({ min: -60_000, max: 600_000 }),
      fc.integer({ min: 1_000, max: 3_000_000 }),
      async (batches, interval, fromOffset, span) => {
        const marketId = await insertTradingMarket(tdb.db, 'Will the next ball be a boundary?');
        const trades: Trade[] = [];
        let at = base;
        batches.forEach((b, bookSeq) => {
          at += b.gapMs;
          b.fills.forEach((f, idx) => trades.push({ at, bookSeq: bookSeq + 1, idx, price: f.price, qty: f.qty }));
        });
        await tdb.db('market_fills').insert(
          trades.map((t) => ({
            market_id: marketId,
            book_seq: t.bookSeq,
            idx: t.idx,
            kind: 'mint',
            yes_price: t.price,
            quantity: t.qty,
            taker_order_id: 'mo_t',
            taker_user_id: 'u1',
            taker_side: 'YES',
            taker_action: 'BUY',
            taker_price: t.price,
            taker_fee: 0,
            maker_order_id: 'mo_m',
            maker_user_id: 'u2',
            maker_side: 'NO',
            maker_action: 'BUY',
            maker_price: 1000 - t.price,
            maker_fee: 0,
            created_at: new Date(t.at),
          })),
        );
        const from = base + fromOffset;
        const to = from + span;
        expect(await marketCandles(tdb.db, marketId, interval, new Date(from), new Date(to))).toEqual(
          bruteForce(trades, interval, from, to),
        );
      },
    ),
    { numRuns: 40 },
  );
});
