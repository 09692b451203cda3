import type { Db } from './knex';
import type { CancelRequestResult } from './market-intake';

/**
 * Requests about a user's live orders that the engine carries out (it alone decides: an order may
 * be matching right now): a decrease, several cancels at once, and cancelling everything.
 * Each re-queues the order row for the engine (a new pending_seq), as a single cancel does.
 */

const REQUEUE = `engine_pending = true, pending_seq = nextval('market_order_seq'), updated_at = now()`;

/** Why a request about one order was not queued, read after the fact (the order, its market). */
async function whyNot(db: Db, marketId: string, orderIds: readonly string[], userId: string) {
  const rows: Array<{ id: string; user_id: string; status: string; market_status: string }> = await db('market_orders as o')
    .join('markets as m', 'm.id', 'o.market_id')
    .whereIn('o.id', orderIds)
    .where('o.market_id', marketId)
    .select('o.id', 'o.user_id', 'o.status', 'm.status as market_status');
  const byId = new Map(rows.map((r) => [r.id, r]));
  return (orderId: string): Exclude<CancelRequestResult, 'requested'> => {
    const row = byId.get(orderId);
    if (!row || row.user_id !== userId) return 'not_found';
    if (row.market_status !== 'open') return 'market_not_open';
    return 'already_done';
  };
}

export type ReduceRequestResult = CancelRequestResult | 'not_a_decrease';

/**
 * Queues a decrease of the order's total quantity to `quantity` (below what it is now, and below
 * any decrease already asked for). The engine keeps the order's time priority and releases what
 * the smaller order no longer needs; at or below what has filled, the rest is cancelled.
 */
export async function requestReduce(
  db: Db,
  marketId: string,
  orderId: string,
  userId: string,
  quantity: number,
): Promise<{ result: ReduceRequestResult; filledQty?: number }> {
  const { rows } = await db.raw(
    `UPDATE market_orders o SET reduce_to = ?, ${REQUEUE}
     FROM markets m
     WHERE o.id = ? AND o.market_id = ? AND o.user_id = ? AND m.id = o.market_id AND m.status = 'open'
       AND o.status IN ('accepted', 'open') AND NOT o.cancel_requested
       AND ? < coalesce(o.reduce_to, o.quantity)
     RETURNING o.filled_qty`,
    [quantity, orderId, marketId, userId, quantity],
  );
  if (rows.length > 0) return { result: 'requested', filledQty: rows[0].filled_qty };
  const row = await db('market_orders')
    .where({ id: orderId, market_id: marketId, user_id: userId })
    .first('status', 'quantity', 'reduce_to', 'cancel_requested');
  if (row && ['accepted', 'open'].includes(row.status) && !row.cancel_requested && quantity >= (row.reduce_to ?? row.quantity)) {
    const market = await db('markets').where({ id: marketId }).first('status');
    if (market?.status === 'open') return { result: 'not_a_decrease' };
  }
  return { result: (await whyNot(db, marketId, [orderId], userId))(orderId) };
}

/** Queues cancels for up to a batch of the user's orders in one statement; a result per order, in order. */
export async function requestCancels(
  db: Db,
  marketId: string,
  orderIds: readonly string[],
  userId: string,
): Promise<CancelRequestResult[]> {
  const { rows } = await db.raw(
    `UPDATE market_orders o SET cancel_requested = true, ${REQUEUE}
     FROM markets m
     WHERE o.id = ANY(?::text[]) AND o.market_id = ? AND o.user_id = ? AND m.id = o.market_id AND m.status = 'open'
       AND o.status IN ('accepted', 'open') AND NOT o.cancel_requested
     RETURNING o.id`,
    [[...orderIds], marketId, userId],
  );
  const queued = new Set(rows.map((r: { id: string }) => r.id));
  const rest = orderIds.filter((id) => !queued.has(id));
  const why = rest.length > 0 ? await whyNot(db, marketId, rest, userId) : () => 'not_found' as const;
  // An order named twice is queued once; both answers say so.
  return orderIds.map((id) => (queued.has(id) ? 'requested' : why(id)));
}

/**
 * Queues a cancel for every live order of the user — in one market, or (marketId null) in every
 * open market. Orders already asked to cancel are not queued again. Returns the orders queued.
 */
export async function requestCancelAll(
  db: Db,
  userId: string,
  marketId: string | null,
): Promise<Array<{ orderId: string; marketId: string }>> {
  const { rows } = await db.raw(
    `UPDATE market_orders o SET cancel_requested = true, ${REQUEUE}
     FROM markets m
     WHERE o.user_id = ? AND (?::text IS NULL OR o.market_id = ?) AND m.id = o.market_id AND m.status = 'open'
       AND o.status IN ('accepted', 'open') AND NOT o.cancel_requested
     RETURNING o.id, o.market_id`,
    [userId, marketId, marketId],
  );
  return rows.map((r: { id: string; market_id: string }) => ({ orderId: r.id, marketId: r.market_id }));
}
