/**
 * All table access of the checkout saga's orders: `orders`, `order_lines`, `order_events` (the
 * timeline), `reservations` (stock held for an order), `order_refunds`, and the ledger lookups that
 * tell a saga step whether its journal already landed. Routes and activities call these.
 */
import { TERMINAL_ORDER_STATUSES, type OrderStatus } from '../domain/checkout/status';
import type { Queryable } from './knex';

/** A row as Postgres returns it (snake_case columns). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a row as Postgres returns it; its readers name the columns they use
export type OrderRow = Record<string, any>;

export interface NewOrder {
  id: string;
  buyerId: string;
  sellerId: string;
  total: number;
  paymentMethod: string | null;
  commissionBps: number;
  referrerId: string | null;
  referralBps: number;
  deliveryDeadlineMs: number;
  returnWindowMs: number;
  lines: Array<{ lineNo: number; productId: string; quantity: number; unitPrice: number; amount: number }>;
}

/**
 * The order, its lines and the first timeline entry (`placed`) in one atomic statement; placing the
 * same order again (same id) inserts nothing.
 */
export async function insertOrder(q: Queryable, o: NewOrder): Promise<void> {
  await q.raw(
    `WITH o AS (
       INSERT INTO orders (id, buyer_id, seller_id, status, total, payment_method, commission_bps, referrer_id, referral_bps,
                           delivery_deadline_ms, return_window_ms)
       VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id
     ), l AS (
       INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, amount)
       SELECT o.id, t.n, t.p, t.q, t.u, t.a FROM o, unnest(?::int[], ?::text[], ?::int[], ?::bigint[], ?::bigint[]) AS t(n, p, q, u, a)
     )
     INSERT INTO order_events (order_id, key, type, actor, details) SELECT o.id, 'placed', 'placed', ?, ?::jsonb FROM o`,
    [
      o.id,
      o.buyerId,
      o.sellerId,
      o.total,
      o.paymentMethod,
      o.commissionBps,
      o.referrerId,
      o.referralBps,
      o.deliveryDeadlineMs,
      o.returnWindowMs,
      o.lines.map((l) => l.lineNo),
      o.lines.map((l) => l.productId),
      o.lines.map((l) => l.quantity),
      o.lines.map((l) => l.unitPrice),
      o.lines.map((l) => l.amount),
      o.buyerId,
      JSON.stringify({ total: o.total }),
    ],
  );
}

// --- reads ------------------------------------------------------------------------------------------

export async function findOrder(q: Queryable, orderId: string, opts: { lock?: boolean } = {}): Promise<OrderRow | undefined> {
  const b = q('orders').where({ id: orderId });
  return (opts.lock ? b.forUpdate() : b).first();
}

export async function orderStatusOf(q: Queryable, orderId: string): Promise<string | null> {
  const row = await q('orders').where({ id: orderId }).first('status');
  return row?.status ?? null;
}

/** The fields that decide who may see or act on an order. */
export async function orderAccess(
  q: Queryable,
  orderId: string,
): Promise<{ id: string; buyer_id: string; seller_id: string; status: string; total: number; refunded: number } | undefined> {
  return q('orders').where({ id: orderId }).first('id', 'buyer_id', 'seller_id', 'status', 'total', 'refunded');
}

/** Newest first: a buyer's, a seller's, or (neither given) everything the user bought or sold. */
export async function listOrders(
  q: Queryable,
  f: { buyerId?: string; sellerId?: string; userId: string; limit: number },
): Promise<OrderRow[]> {
  return q('orders')
    .modify((b) => {
      if (f.buyerId !== undefined) b.where({ buyer_id: f.buyerId });
      if (f.sellerId !== undefined) b.where({ seller_id: f.sellerId });
      if (f.buyerId === undefined && f.sellerId === undefined)
        b.where((w) => w.where({ buyer_id: f.userId }).orWhere({ seller_id: f.userId }));
    })
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(f.limit);
}

/** The lines and timelines of these orders: two queries however many orders. */
export async function orderDetails(q: Queryable, orderIds: string[]): Promise<{ lines: OrderRow[]; events: OrderRow[] }> {
  const [lines, events] = await Promise.all([
    q('order_lines').whereIn('order_id', orderIds).orderBy(['order_id', 'line_no']),
    q('order_events').whereIn('order_id', orderIds).orderBy('id'),
  ]);
  return { lines, events };
}

/** What a validation step checks: each line with the product's current price, state and seller. */
export async function linesWithProducts(
  q: Queryable,
  orderId: string,
): Promise<Array<{ product_id: string; unit_price: number; price: number; active: boolean; seller_id: string; order_seller: string }>> {
  const { rows } = await q.raw(
    `SELECT l.product_id, l.unit_price, p.price, p.active, p.seller_id, o.seller_id AS order_seller
     FROM orders o JOIN order_lines l ON l.order_id = o.id JOIN products p ON p.id = l.product_id WHERE o.id = ?`,
    [orderId],
  );
  return rows;
}

/**
 * A fresh order's status (under its row lock) and its lines with each product's current price,
 * state and seller, in product order: what placing it in one transaction needs. Null when there is
 * no such order.
 */
export async function orderForPlacement(
  q: Queryable,
  orderId: string,
): Promise<{
  status: string;
  lines: Array<{
    product_id: string;
    quantity: number;
    unit_price: number;
    price: number;
    active: boolean;
    seller_id: string;
    order_seller: string;
  }>;
} | null> {
  const { rows } = await q.raw(
    `SELECT o.status, o.seller_id AS order_seller, l.product_id, l.quantity, l.unit_price, p.price, p.active, p.seller_id
     FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id LEFT JOIN products p ON p.id = l.product_id
     WHERE o.id = ? ORDER BY l.product_id FOR UPDATE OF o`,
    [orderId],
  );
  if (rows.length === 0) return null;
  return { status: rows[0].status, lines: rows.filter((r: { product_id: string | null }) => r.product_id !== null) };
}

/**
 * Takes the stock of these lines (product order, as reserveLines) and records the reservation.
 * Returns the product that ran short (the caller's transaction must roll back), or null.
 */
export async function reserveGivenLines(
  q: Queryable,
  orderId: string,
  lines: Array<{ product_id: string; quantity: number }>,
): Promise<string | null> {
  for (const line of lines) {
    const updated = await q.raw(`UPDATE products SET stock = stock - ?, updated_at = now() WHERE id = ? AND stock >= ? RETURNING stock`, [
      line.quantity,
      line.product_id,
      line.quantity,
    ]);
    if (updated.rows.length === 0) return line.product_id;
  }
  await q.raw(
    `INSERT INTO reservations (order_id, product_id, quantity, status) SELECT ?, t.p, t.q, 'held' FROM unnest(?::text[], ?::int[]) AS t(p, q)`,
    [orderId, lines.map((l) => l.product_id), lines.map((l) => l.quantity)],
  );
  return null;
}

// --- the one status writer ----------------------------------------------------------------------------

export interface OrderEvent {
  key: string;
  type: string;
  details?: Record<string, unknown>;
  actor?: string;
}

/** Columns a status change may set alongside the status. */
export interface OrderStatusColumns {
  funding_source?: 'wallet' | 'provider';
  provider_payment_id?: string;
  failure_code?: string | null;
  failure_message?: string | null;
  commission?: number;
  referral?: number;
  seller_net?: number;
}
const STATUS_COLUMNS = new Set([
  'funding_source',
  'provider_payment_id',
  'failure_code',
  'failure_message',
  'commission',
  'referral',
  'seller_net',
]);

/**
 * Moves the order's status forward, never back: a closed (terminal) order stays closed, and a
 * compensating one only closes — so a late step (a retry that outlived its worker) can never reopen
 * a cancelled order. With an event, the change and its timeline entry go in ONE statement (atomic,
 * one round trip); the entry is written once per key, whether or not the status moved.
 */
export async function writeOrderStatus(
  q: Queryable,
  orderId: string,
  status: OrderStatus,
  opts: { set?: OrderStatusColumns; event?: OrderEvent } = {},
): Promise<void> {
  const set = Object.entries(opts.set ?? {}).filter(([, v]) => v !== undefined);
  for (const [column] of set) if (!STATUS_COLUMNS.has(column)) throw new TypeError(`orders.${column} is not set with a status`);
  const closing = TERMINAL_ORDER_STATUSES.includes(status);
  const update = `UPDATE orders SET status = ?, updated_at = now()${set.map(([c]) => `, ${c} = ?`).join('')}
       WHERE id = ? AND status <> ALL(?::text[]) AND (? OR status <> 'compensating')`;
  const updateArgs = [status, ...set.map(([, v]) => v), orderId, TERMINAL_ORDER_STATUSES, closing];
  if (!opts.event) {
    await q.raw(update, updateArgs);
    return;
  }
  const e = opts.event;
  await q.raw(
    `WITH u AS (${update} RETURNING id)
     INSERT INTO order_events (order_id, key, type, actor, details) VALUES (?, ?, ?, ?, ?::jsonb) ON CONFLICT (order_id, key) DO NOTHING`,
    [...updateArgs, orderId, e.key, e.type, e.actor ?? 'system', JSON.stringify(e.details ?? {})],
  );
}

/**
 * The status change of several steps done in one transaction (checkout placement), with each
 * step's timeline entry in the order given, in ONE statement: the same rows as one
 * writeOrderStatus per step, ending at `status`.
 */
export async function writeOrderSteps(
  q: Queryable,
  orderId: string,
  status: OrderStatus,
  set: Pick<OrderStatusColumns, 'funding_source'>,
  events: OrderEvent[],
): Promise<void> {
  await q.raw(
    `WITH u AS (
       UPDATE orders SET status = ?, updated_at = now(), funding_source = coalesce(?, funding_source)
       WHERE id = ? AND status <> ALL(?::text[]) AND status <> 'compensating' RETURNING id
     )
     INSERT INTO order_events (order_id, key, type, actor, details)
     SELECT ?, e.key, e.type, e.actor, e.details::jsonb
     FROM unnest(?::text[], ?::text[], ?::text[], ?::text[]) WITH ORDINALITY AS e(key, type, actor, details, n)
     ORDER BY e.n
     ON CONFLICT (order_id, key) DO NOTHING`,
    [
      status,
      set.funding_source ?? null,
      orderId,
      [...TERMINAL_ORDER_STATUSES],
      orderId,
      events.map((e) => e.key),
      events.map((e) => e.type),
      events.map((e) => e.actor ?? 'system'),
      events.map((e) => JSON.stringify(e.details ?? {})),
    ],
  );
}

/** A timeline entry on its own, once per key. */
export async function recordOrderEvent(q: Queryable, orderId: string, e: OrderEvent): Promise<void> {
  await q.raw(
    `INSERT INTO order_events (order_id, key, type, actor, details) VALUES (?, ?, ?, ?, ?::jsonb) ON CONFLICT (order_id, key) DO NOTHING`,
    [orderId, e.key, e.type, e.actor ?? 'system', JSON.stringify(e.details ?? {})],
  );
}

/** The order's status under its row lock (money and stock steps check it), or null when there is no order. */
export async function lockOrderStatus(q: Queryable, orderId: string): Promise<string | null> {
  const row = await q('orders').where({ id: orderId }).forUpdate().first('status');
  return row?.status ?? null;
}

export async function addRefunded(q: Queryable, orderId: string, amount: number): Promise<void> {
  await q.raw(`UPDATE orders SET refunded = refunded + ?, updated_at = now() WHERE id = ?`, [amount, orderId]);
}

// --- stock ----------------------------------------------------------------------------------------------

export async function hasReservation(q: Queryable, orderId: string): Promise<boolean> {
  return (await q('reservations').where({ order_id: orderId }).first()) !== undefined;
}

/**
 * Takes the stock of every line with one conditional UPDATE each (`stock >= quantity`), in product
 * order so two orders never deadlock, and records the reservation. Returns the product that ran
 * short (nothing was recorded; the caller's transaction rolls back what was taken), or null.
 */
export async function reserveLines(q: Queryable, orderId: string): Promise<{ short: string | null; lines: number }> {
  const lines: Array<{ product_id: string; quantity: number }> = await q('order_lines')
    .where({ order_id: orderId })
    .orderBy('product_id')
    .select('product_id', 'quantity');
  for (const line of lines) {
    const updated = await q.raw(`UPDATE products SET stock = stock - ?, updated_at = now() WHERE id = ? AND stock >= ? RETURNING stock`, [
      line.quantity,
      line.product_id,
      line.quantity,
    ]);
    if (updated.rows.length === 0) return { short: line.product_id, lines: 0 };
  }
  await q('reservations').insert(lines.map((l) => ({ order_id: orderId, product_id: l.product_id, quantity: l.quantity, status: 'held' })));
  return { short: null, lines: lines.length };
}

/**
 * Gives held stock back (and, for a return, the delivered stock): only rows that change status
 * restock, so repeating it — or running it when nothing was reserved — does nothing.
 */
export async function releaseReservedStock(q: Queryable, orderId: string, returned: boolean): Promise<number> {
  const { rows } = await q.raw(
    `UPDATE reservations SET status = CASE WHEN status = 'held' THEN 'released' ELSE 'returned' END, updated_at = now()
     WHERE order_id = ? AND (status = 'held' OR (? AND status = 'consumed'))
     RETURNING product_id, quantity`,
    [orderId, returned],
  );
  const byProduct = [...rows].sort((a: { product_id: string }, b: { product_id: string }) => (a.product_id < b.product_id ? -1 : 1));
  for (const r of byProduct)
    await q.raw(`UPDATE products SET stock = stock + ?, updated_at = now() WHERE id = ?`, [r.quantity, r.product_id]);
  return rows.length;
}

/** Delivered: the held stock is now the buyer's (a return gives it back). */
export async function consumeReservation(q: Queryable, orderId: string): Promise<void> {
  await q('reservations').where({ order_id: orderId, status: 'held' }).update({ status: 'consumed', updated_at: q.fn.now() });
}

// --- ledger lookups of an order's steps ----------------------------------------------------------------

/** The id of the journal posted with this idempotency key, if it was. */
export async function journalIdByKey(q: Queryable, idempotencyKey: string): Promise<number | null> {
  const row = await q('journal').where({ idempotency_key: idempotencyKey }).first('id');
  return row?.id ?? null;
}

/** The positive side of a journal (what a refund moved). */
export async function journalCreditAmount(q: Queryable, journalId: number): Promise<number> {
  const line = await q('journal_lines').where({ journal_id: journalId }).where('amount', '>', 0).first('amount');
  return line?.amount ?? 0;
}

/** An account's balance over all its shards (an order's escrow). */
export async function accountBalance(q: Queryable, account: string): Promise<number> {
  const { rows } = await q.raw(`SELECT coalesce(sum(balance), 0)::bigint AS balance FROM account_balances WHERE account_id = ?`, [account]);
  return Number(rows[0]?.balance ?? 0);
}

// --- refunds after settlement -----------------------------------------------------------------------------

export async function insertOrderRefund(
  q: Queryable,
  r: { id: string; orderId: string; amount: number; reason: string; requestedBy: string },
): Promise<void> {
  await q.raw(
    `INSERT INTO order_refunds (id, order_id, amount, status, reason, requested_by) VALUES (?, ?, ?, 'pending', ?, ?) ON CONFLICT (id) DO NOTHING`,
    [r.id, r.orderId, r.amount, r.reason, r.requestedBy],
  );
}

export async function markOrderRefund(
  q: Queryable,
  refundId: string,
  outcome: { status: 'succeeded' } | { status: 'rejected'; message: string },
): Promise<void> {
  await q('order_refunds')
    .where({ id: refundId })
    .update({
      status: outcome.status,
      ...(outcome.status === 'rejected' ? { failure_message: outcome.message } : {}),
      updated_at: q.fn.now(),
    });
}
