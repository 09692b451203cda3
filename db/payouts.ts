/**
 * All table access of seller payouts: the `payouts` rows (at most one pending or in flight per
 * seller, enforced by a partial unique index), and the balance lookups the sweep and the reserve
 * step lock. The seller route, the weekly sweep and the payout activities call these.
 */
import { randomUUID } from 'node:crypto';
import { ACTIVE_PAYOUT_STATUSES, payoutKeys, payoutWorkflowId } from '../contracts/payout';
import { accounts } from '../domain/ledger/accounts';
import { transfer } from '../domain/ledger/journal';
import { raiseFlowAlert } from './flow-alerts';
import type { Queryable, Tx } from './knex';
import { postJournal } from './ledger';

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
  /** The bank's reference for a paid payout (migrations/20261208010000_payout_utr.ts). */
  utr?: string;
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

/**
 * The bank returned a payout after it was paid (RazorpayX `payout.reversed`): the money comes back
 * from external:bank to the seller's payable (keyed, so a repeated webhook moves nothing), the row
 * keeps `paid` with provider_state `reversed`, and ops get an alert to look at the seller's bank
 * account before the next payout. Null when the payout is not ours or was never finalised (the
 * workflow, still waiting, reads the reversal itself and gives the money back as a failure).
 */
export async function reversePaidPayout(
  trx: Tx,
  providerPayoutId: string,
  reason: string,
): Promise<{ payoutId: string; applied: boolean } | null> {
  const payout = await trx('payouts').where({ provider_payout_id: providerPayoutId }).forUpdate().first();
  if (!payout || payout.status !== 'paid' || !payout.amount) return null;
  const posted = await postJournal(trx, {
    idempotencyKey: payoutKeys.reversed(payout.id),
    reason: 'payout_reversed',
    refType: 'payout',
    refId: payout.id,
    metadata: { providerPayoutId, reason },
    lines: transfer(accounts.externalBank, accounts.sellerPayable(payout.seller_id), Number(payout.amount)),
  });
  await updatePayout(trx, payout.id, { provider_state: 'reversed', failure_code: 'reversed', failure_message: reason });
  await raiseFlowAlert(trx, {
    workflowId: payoutWorkflowId(payout.id),
    flowType: 'payout',
    step: 'reversed',
    reason: `The bank reversed payout ${payout.id} after paying it (${reason}); the money is back in the seller's payable`,
    code: 'payout_reversed',
  });
  return { payoutId: payout.id, applied: posted.applied };
}
