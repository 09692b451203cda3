/**
 * All table access of seller payouts: the `payouts` rows (at most one pending or in flight per
 * seller, enforced by a partial unique index), and the balance lookups the sweep and the reserve
 * step lock. The seller route, the weekly sweep and the payout activities call these.
 */
import { randomUUID } from 'node:crypto';
import { ACTIVE_PAYOUT_STATUSES } from '../contracts/payout';
import type { Queryable } from './knex';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a row as Postgres returns it; its readers name the columns they use
export type PayoutRow = Record<string, any>;

export const newPayoutId = () => `po_${randomUUID().replace(/-/g, '').slice(0, 24)}`;

export interface PayoutRequest {
  sellerId: string;
  bankAccountRef: string;
  requestedBy: string;
}

/**
 * The one way a payout is created, by the seller route and by the weekly sweep alike. Idempotent per
 * seller: while a payout for the seller is under way (pending or in flight), that payout is returned
 * (`created: false`) and no second one is made — so two requests racing each other, or a request
 * racing the sweep, can never move the same payable twice. The partial unique index decides the race
 * inside Postgres (ON CONFLICT … DO NOTHING), so neither side has to catch a unique violation.
 */
export async function createPayout(q: Queryable, req: PayoutRequest): Promise<{ payout: PayoutRow; created: boolean }> {
  for (;;) {
    const { rows } = await q.raw(
      `INSERT INTO payouts (id, seller_id, status, bank_account_ref, requested_by) VALUES (?, ?, 'pending', ?, ?)
       ON CONFLICT (seller_id) WHERE status IN ('pending', 'in_flight') DO NOTHING RETURNING *`,
      [newPayoutId(), req.sellerId, req.bankAccountRef, req.requestedBy],
    );
    if (rows.length > 0) return { payout: rows[0], created: true };
    const active = await activePayout(q, req.sellerId);
    // The active payout may have finished between the two statements: then a new one can be made.
    if (active) return { payout: active, created: false };
  }
}

export async function activePayout(q: Queryable, sellerId: string): Promise<PayoutRow | undefined> {
  return q('payouts').where({ seller_id: sellerId }).whereIn('status', ACTIVE_PAYOUT_STATUSES).first();
}

export async function findPayout(q: Queryable, payoutId: string, opts: { lock?: boolean } = {}): Promise<PayoutRow | undefined> {
  const b = q('payouts').where({ id: payoutId });
  return (opts.lock ? b.forUpdate() : b).first();
}

export async function sellerPayouts(q: Queryable, sellerId: string, limit = 100): Promise<PayoutRow[]> {
  return q('payouts').where({ seller_id: sellerId }).orderBy('created_at', 'desc').limit(limit);
}

/** Columns a payout step changes. */
export interface PayoutChange {
  status?: 'pending' | 'in_flight' | 'paid' | 'failed' | 'skipped';
  amount?: number;
  provider_payout_id?: string;
  provider_state?: string;
  failure_code?: string;
  failure_message?: string;
}

export async function updatePayout(q: Queryable, payoutId: string, change: PayoutChange): Promise<void> {
  await q('payouts')
    .where({ id: payoutId })
    .update({ ...change, updated_at: q.fn.now() });
}

/** A payable's balance row, locked: a concurrent refund clawback waits until the payout has moved it. */
export async function lockPayableBalance(q: Queryable, account: string): Promise<number> {
  const { rows } = await q.raw(`SELECT balance FROM account_balances WHERE account_id = ? AND shard = 0 FOR UPDATE`, [account]);
  return Number(rows[0]?.balance ?? 0);
}

/** Sellers with a positive payable and no payout under way: who the weekly sweep pays. */
export async function sellersToPay(q: Queryable, limit: number): Promise<Array<{ id: string; bank_account_ref: string }>> {
  const { rows } = await q.raw(
    `SELECT s.id, s.bank_account_ref FROM sellers s
     JOIN account_balances b ON b.account_id = 'seller:' || s.id || ':payable' AND b.balance > 0
     WHERE NOT EXISTS (SELECT 1 FROM payouts p WHERE p.seller_id = s.id AND p.status IN ('pending', 'in_flight'))
     ORDER BY s.id LIMIT ?`,
    [limit],
  );
  return rows;
}

/** Pending payouts, oldest first (their workflow may never have started). */
export async function pendingPayouts(q: Queryable, limit: number): Promise<Array<{ id: string; seller_id: string }>> {
  return q('payouts').where({ status: 'pending' }).orderBy('created_at').limit(limit).select('id', 'seller_id');
}
