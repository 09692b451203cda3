import { randomUUID } from 'node:crypto';
import { GroupCommit, settle, type Outcome } from './group-commit';
import type { Db } from './knex';
import type { StoredOrderTerms } from '../domain/market';

export interface OrderRequest extends StoredOrderTerms {
  marketId: string;
  userId: string;
  clientOrderId: string;
  /** Funds to hold for a BUY (its maximum cost); ignored for a SELL. */
  holdAmount: number;
}

export type IntakeFailure =
  'market_not_found' | 'market_not_open' | 'market_suspended' | 'client_order_id_reused' | 'insufficient_funds' | 'insufficient_position';

export type IntakeResult =
  | { result: 'accepted' | 'replayed'; orderId: string; seq: number }
  /** The client order id already names another order of this user in this market: that one. */
  | { result: 'client_order_id_reused'; orderId: string }
  | { result: Exclude<IntakeFailure, 'client_order_id_reused'> };

const newOrderId = () => `mo_${randomUUID().replace(/-/g, '')}`;

/** Deadlock or serialization failure: nothing was written, the whole batch can run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 3;

/** The rows place_market_orders takes (its jsonb argument), each order with a new id and its place in the batch. */
export function intakePayload(reqs: readonly OrderRequest[]) {
  return reqs.map((r, idx) => ({
    idx,
    order_id: newOrderId(),
    market_id: r.marketId,
    user_id: r.userId,
    client_order_id: r.clientOrderId,
    side: r.side,
    action: r.action,
    price: r.price,
    quantity: r.quantity,
    tif: r.tif,
    seen_price: r.seenPrice,
    slippage_bps: r.slippageBps,
    hold: r.action === 'BUY' ? r.holdAmount : 0,
    expires_at: r.expiresAt == null ? null : new Date(r.expiresAt).toISOString(),
    post_only: r.postOnly === true,
  }));
}

/**
 * Accepts many orders durably in one transaction and one round trip (see place_market_orders): per
 * order, the open check, order row and funds hold or contract lock commit together with the rest of
 * the batch, and each order gets its own result — a refused order does not affect the others. The
 * client order id (unique per user and market) makes each order idempotent, also when it repeats
 * inside the batch (the first one counts); reused for a different order, the answer names the order
 * it clashes with. Results are in the order of `reqs`.
 */
export async function placeMarketOrders(db: Db, reqs: readonly OrderRequest[]): Promise<IntakeResult[]> {
  if (reqs.length === 0) return [];
  const payload = JSON.stringify(intakePayload(reqs));
  for (let attempt = 1; ; attempt++) {
    try {
      const { rows } = await db.raw(`SELECT r_idx, r_order_id, r_seq, r_result FROM place_market_orders(?::jsonb)`, [payload]);
      const out = new Array<IntakeResult>(reqs.length);
      for (const r of rows as Array<{ r_idx: number; r_order_id: string | null; r_seq: number | null; r_result: string }>) {
        out[r.r_idx] =
          r.r_result === 'accepted' || r.r_result === 'replayed'
            ? { result: r.r_result, orderId: r.r_order_id!, seq: r.r_seq! }
            : r.r_result === 'client_order_id_reused'
              ? { result: r.r_result, orderId: r.r_order_id! }
              : { result: r.r_result as Exclude<IntakeFailure, 'client_order_id_reused'> };
      }
      for (let i = 0; i < out.length; i++)
        if (out[i] === undefined) throw new Error(`place_market_orders returned no result for order ${i}`);
      return out;
    } catch (err) {
      if (attempt < MAX_ATTEMPTS && RETRYABLE.has((err as { code?: string }).code ?? '')) continue;
      throw err;
    }
  }
}

export interface IntakeBatcherOptions {
  /** Most orders in one transaction. */
  maxBatch?: number;
  /** Batches committing at once; requests arriving meanwhile wait for the next one. */
  maxInFlight?: number;
}

/**
 * Group commit for order intake (see GroupCommit): an idle API adds no wait, and a busy one pays
 * one round trip and one WAL flush for many orders. Each caller still gets its answer only after
 * its batch has committed. If a batch fails as a whole (something unexpected, not a refused order),
 * its orders are retried one by one so a single bad order fails alone.
 */
export class MarketIntakeBatcher {
  private readonly group: GroupCommit<OrderRequest, IntakeResult>;

  constructor(
    private readonly db: Db,
    options: IntakeBatcherOptions = {},
  ) {
    this.group = new GroupCommit({
      maxGroup: options.maxBatch ?? 500,
      maxInFlight: options.maxInFlight ?? 2,
      // Don't split a short queue across two batches: the second would only queue behind the
      // first on the same wallet rows.
      minGroupAlongside: 8,
      run: (reqs) => this.commit(reqs),
    });
  }

  place(req: OrderRequest): Promise<IntakeResult> {
    return this.group.call(req);
  }

  private async commit(reqs: OrderRequest[]): Promise<Array<Outcome<IntakeResult>>> {
    try {
      return (await placeMarketOrders(this.db, reqs)).map((ok) => ({ ok }));
    } catch (err) {
      if (reqs.length === 1) throw err;
      return Promise.all(reqs.map((r) => settle(async () => (await placeMarketOrders(this.db, [r]))[0])));
    }
  }
}

const batchers = new WeakMap<Db, MarketIntakeBatcher>();

/** The process's intake batcher for this database (one per pool, so batches share connections well). */
export function marketIntake(db: Db): MarketIntakeBatcher {
  let b = batchers.get(db);
  if (!b) batchers.set(db, (b = new MarketIntakeBatcher(db)));
  return b;
}

export type CancelRequestResult = 'requested' | 'not_found' | 'already_done' | 'market_not_open';

/** Queues a cancel for the engine, which alone decides (the order may be matching right now). */
export async function requestCancel(db: Db, marketId: string, orderId: string, userId: string | null): Promise<CancelRequestResult> {
  const { rows } = await db.raw(
    `UPDATE market_orders o SET cancel_requested = true, engine_pending = true, pending_seq = nextval('market_order_seq'), updated_at = now()
     FROM markets m
     WHERE o.id = ? AND o.market_id = ? AND m.id = o.market_id AND m.status = 'open'
       AND o.status IN ('accepted', 'open') AND (?::text IS NULL OR o.user_id = ?)
     RETURNING o.id`,
    [orderId, marketId, userId, userId],
  );
  if (rows.length > 0) return 'requested';
  const row = await db('market_orders as o')
    .join('markets as m', 'm.id', 'o.market_id')
    .where('o.id', orderId)
    .where('o.market_id', marketId)
    .first('o.user_id', 'o.status', 'm.status as market_status');
  if (!row || (userId !== null && row.user_id !== userId)) return 'not_found';
  if (row.market_status !== 'open') return 'market_not_open';
  return 'already_done';
}
