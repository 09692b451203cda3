import { marketView, type MarketView } from '../domain/market/feed';
import { PAYOUT } from '../domain/market';
import type { Queryable } from './knex';

/**
 * A market row `alias` is suspended: in play, or in the delay after a resume before trading
 * restarts. The one definition of it in SQL (intake's place_market_orders tests the same).
 */
export const SUSPENDED_SQL = (alias: string) =>
  `(${alias}.suspended_at IS NOT NULL OR (${alias}.resumes_at IS NOT NULL AND now() < ${alias}.resumes_at))`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a market_orders row as Postgres returns it; its readers name the columns they use
export type MarketOrderRow = Record<string, any>;

export interface MarketRow {
  id: string;
  question: string;
  status: string;
  opens_at: Date;
  closes_at: Date;
  outcome: string | null;
  resolution_source: string | null;
  void_reason: string | null;
  fee_bps: number;
  [k: string]: unknown;
}

export async function getMarket(q: Queryable, marketId: string): Promise<MarketRow | undefined> {
  return q('markets').where({ id: marketId }).first();
}

export async function marketFeeBps(q: Queryable, marketId: string): Promise<number | null> {
  const row = await q('markets').where({ id: marketId }).first('fee_bps');
  return row ? row.fee_bps : null;
}

export async function listMarkets(q: Queryable, status: string | undefined, limit: number): Promise<MarketRow[]> {
  return q('markets')
    .modify((b) => {
      if (status) b.where({ status });
    })
    .orderBy('opens_at', 'desc')
    .limit(limit);
}

/**
 * The committed book as watchers see it, read in one statement so the levels and the version
 * agree: the resting orders aggregated by YES price, plus the last trade.
 */
export async function committedView(q: Queryable, marketId: string): Promise<MarketView> {
  const { rows } = await q.raw(
    `WITH e AS (SELECT e.version, e.last_price, e.volume, ${SUSPENDED_SQL('m')} AS suspended
                FROM market_engines e JOIN markets m ON m.id = e.market_id WHERE e.market_id = ?),
     lv AS (
       SELECT (side = 'YES') = (action = 'BUY') AS is_bid,
              CASE WHEN side = 'YES' THEN book_price ELSE ${PAYOUT} - book_price END AS price,
              sum(remaining)::bigint AS quantity, count(*)::int AS orders
       FROM market_orders WHERE market_id = ? AND status = 'open' GROUP BY 1, 2
     )
     SELECT e.version, e.last_price, e.volume, e.suspended,
       coalesce((SELECT json_agg(json_build_object('price', price, 'quantity', quantity, 'orders', orders) ORDER BY price DESC) FROM lv WHERE is_bid), '[]') AS bids,
       coalesce((SELECT json_agg(json_build_object('price', price, 'quantity', quantity, 'orders', orders) ORDER BY price ASC) FROM lv WHERE NOT is_bid), '[]') AS asks
     FROM e`,
    [marketId, marketId],
  );
  const r = rows[0] ?? { version: 0, last_price: null, volume: 0, bids: [], asks: [], suspended: false };
  return marketView(marketId, r.version, r.bids, r.asks, r.last_price, r.volume, r.suspended);
}

export function orderView(r: MarketOrderRow) {
  return {
    orderId: r.id,
    marketId: r.market_id,
    userId: r.user_id,
    clientOrderId: r.client_order_id,
    side: r.side,
    action: r.action,
    price: r.price,
    quantity: r.quantity,
    tif: r.tif,
    seenPrice: r.seen_price,
    slippageBps: r.slippage_bps,
    seq: r.seq,
    status: r.status,
    cancelRequested: r.cancel_requested,
    restingPrice: r.book_price,
    remaining: r.remaining,
    filledQty: r.filled_qty,
    cancelledQty: r.cancelled_qty,
    averagePrice: r.filled_qty > 0 ? Math.round(r.filled_cost / r.filled_qty) : null,
    fees: r.fees,
    rejectReason: r.reject_reason,
    currentPrice: r.current_price,
    expiresAt: r.expires_at ? new Date(r.expires_at).toISOString() : null,
    postOnly: r.post_only === true,
    createdAt: new Date(r.created_at).toISOString(),
  };
}

export async function listUserOrders(q: Queryable, marketId: string, userId: string, limit: number) {
  const rows = await q('market_orders').where({ market_id: marketId, user_id: userId }).orderBy('seq', 'desc').limit(limit);
  return rows.map(orderView);
}

export async function getOrder(q: Queryable, orderId: string): Promise<MarketOrderRow | undefined> {
  return q('market_orders').where({ id: orderId }).first();
}

/**
 * How a user's contracts are valued, by what the market has become:
 * - `last_price` while it trades or awaits its result: each contract at the last traded price
 *   (YES at p, NO at 1000 − p); no trade yet means no value (null).
 * - `outcome` once resolved (and after settlement): 1000 a winning contract, 0 a losing one —
 *   what settlement pays, whatever the last trade was.
 * - `void_refund` once voided: the contracts are worth nothing and are not marked; the user is owed
 *   their net cost back when it is positive (settlement `refund`), so `value` is that refund and
 *   P&L is 0 — or, for someone who sold at a profit (net cost negative), the profit they keep.
 */
export type Valuation = 'last_price' | 'outcome' | 'void_refund';

interface PositionRow {
  side: 'YES' | 'NO';
  quantity: number;
  locked: number;
  cost: number;
}

function valuationOf(market: MarketRow, settlement: { kind: string } | undefined): Valuation {
  if (market.status === 'voided' || settlement?.kind === 'refund') return 'void_refund';
  if (settlement?.kind === 'payout' || (market.outcome !== null && (market.status === 'resolved' || market.status === 'settled')))
    return 'outcome';
  return 'last_price';
}

function markPrice(valuation: Valuation, side: 'YES' | 'NO', outcome: string | null, last: number | null): number | null {
  if (valuation === 'void_refund') return null;
  if (valuation === 'outcome') return side === outcome ? PAYOUT : 0;
  if (last === null) return null;
  return side === 'YES' ? last : PAYOUT - last;
}

/**
 * A user's positions in a market and their P&L (null when the market does not exist). Cost is the
 * net cash put in (fees included); value and P&L follow `valuation` above.
 */
export async function userPositions(q: Queryable, marketId: string, userId: string) {
  const [market, engine, rows, settlement] = await Promise.all([
    getMarket(q, marketId),
    q('market_engines').where({ market_id: marketId }).first('last_price'),
    q('market_positions').where({ market_id: marketId, user_id: userId }).orderBy('side') as Promise<PositionRow[]>,
    q('market_settlements').where({ market_id: marketId, user_id: userId }).first(),
  ]);
  if (!market) return null;
  const valuation = valuationOf(market, settlement);
  const last = engine?.last_price ?? null;
  const positions = rows.map((r) => {
    const mark = markPrice(valuation, r.side, market.outcome, last);
    return {
      side: r.side,
      quantity: r.quantity,
      locked: r.locked,
      cost: r.cost,
      markPrice: mark,
      markValue: mark === null ? null : mark * r.quantity,
    };
  });
  const cost = positions.reduce((s, p) => s + p.cost, 0);
  let value: number | null;
  if (settlement) value = settlement.amount;
  else if (valuation === 'void_refund')
    value = Math.max(cost, 0); // what the refund will pay
  else if (positions.some((p) => p.quantity > 0 && p.markValue === null)) value = null;
  else value = positions.reduce((s, p) => s + (p.markValue ?? 0), 0);
  return {
    marketId,
    userId,
    marketStatus: market.status,
    outcome: market.outcome,
    valuation,
    positions,
    netCost: cost,
    value,
    pnl: value === null ? null : value - cost,
    settlement: settlement ? { kind: settlement.kind, amount: settlement.amount, contracts: settlement.contracts } : null,
  };
}
