import type { Queryable } from './knex';

/** Candle widths the API offers, as Postgres intervals. */
export const CANDLE_INTERVALS = { '1s': '1 second', '1m': '1 minute', '5m': '5 minutes' } as const;
export type CandleInterval = keyof typeof CANDLE_INTERVALS;
export const CANDLE_INTERVAL_MS: Record<CandleInterval, number> = { '1s': 1_000, '1m': 60_000, '5m': 300_000 };

export interface Candle {
  /** Start of the bucket (aligned to the interval from the Unix epoch), ISO. */
  start: string;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Contracts traded. */
  volume: number;
  trades: number;
}

/**
 * OHLCV candles of a market's trades (YES price per fill) in [from, to), one per bucket that saw a
 * trade, oldest first. Open and close are the first and last fills in engine order (book sequence,
 * then the fill's place in it), which is also time order: a batch's fills share one commit time.
 */
export async function marketCandles(q: Queryable, marketId: string, interval: CandleInterval, from: Date, to: Date): Promise<Candle[]> {
  const { rows } = await q.raw(
    `SELECT date_bin(?::interval, created_at, 'epoch'::timestamptz) AS bucket,
            (array_agg(yes_price ORDER BY book_seq, idx))[1] AS open,
            max(yes_price) AS high, min(yes_price) AS low,
            (array_agg(yes_price ORDER BY book_seq DESC, idx DESC))[1] AS close,
            sum(quantity)::bigint AS volume, count(*)::int AS trades
     FROM market_fills WHERE market_id = ? AND created_at >= ? AND created_at < ?
     GROUP BY 1 ORDER BY 1`,
    [CANDLE_INTERVALS[interval], marketId, from, to],
  );
  return rows.map(
    (r: { bucket: Date; open: number; high: number; low: number; close: number; volume: string | number; trades: number }) => ({
      start: new Date(r.bucket).toISOString(),
      open: r.open,
      high: r.high,
      low: r.low,
      close: r.close,
      volume: Number(r.volume),
      trades: r.trades,
    }),
  );
}

/** The market's last traded YES price (null before its first trade, or for no such market). */
export async function lastTradedPrice(q: Queryable, marketId: string): Promise<number | null> {
  const row = await q('market_engines').where({ market_id: marketId }).first('last_price');
  return row?.last_price ?? null;
}

export interface Trade {
  /** The engine's book sequence and the fill's place in it: the trade's position in the market's history. */
  seq: number;
  idx: number;
  /** YES price of the fill. */
  price: number;
  quantity: number;
  /** What the order that took liquidity did. */
  takerSide: 'YES' | 'NO';
  takerAction: 'BUY' | 'SELL';
  at: string;
}

/** A market's latest trades, newest first. No user or order ids: anyone who may read the market may read them. */
export async function recentTrades(q: Queryable, marketId: string, limit: number): Promise<Trade[]> {
  const rows = await q('market_fills')
    .where({ market_id: marketId })
    .orderBy([
      { column: 'book_seq', order: 'desc' },
      { column: 'idx', order: 'desc' },
    ])
    .limit(limit)
    .select('book_seq', 'idx', 'yes_price', 'quantity', 'taker_side', 'taker_action', 'created_at');
  return rows.map((r) => ({
    seq: Number(r.book_seq),
    idx: r.idx,
    price: r.yes_price,
    quantity: r.quantity,
    takerSide: r.taker_side,
    takerAction: r.taker_action,
    at: new Date(r.created_at).toISOString(),
  }));
}
