/**
 * subscription_renewals (one row per billing period) and subscription_renewal_attempts (one per
 * charge attempt and method): opened, charged, recorded and listed here.
 */
import { renewalAttemptMethodKey } from '../contracts/subscription';
import type { Queryable, Tx } from './knex';

export interface RenewalOpening {
  subscriptionId: string;
  period: number;
  periodStart: string;
  amount: number;
}

/** Opens a period's renewal once (pending); a repeat changes nothing. */
export async function openRenewal(q: Queryable, r: RenewalOpening): Promise<void> {
  await q.raw(
    `INSERT INTO subscription_renewals (subscription_id, period, period_start, amount, status)
     VALUES (?, ?, ?::date, ?, 'pending') ON CONFLICT DO NOTHING`,
    [r.subscriptionId, r.period, r.periodStart, r.amount],
  );
}

export interface RenewalStateChange {
  subscriptionId: string;
  period: number;
  status: 'retrying' | 'payment_failed';
  attempts: number;
  lastError: string;
  nextRetryAt: string | null;
}

/** Records dunning on an unpaid renewal (a paid one stays paid). */
export async function recordRenewalState(q: Queryable, r: RenewalStateChange): Promise<void> {
  await q('subscription_renewals').where({ subscription_id: r.subscriptionId, period: r.period }).whereNot({ status: 'paid' }).update({
    status: r.status,
    attempts: r.attempts,
    last_error: r.lastError,
    next_retry_at: r.nextRetryAt,
    updated_at: q.fn.now(),
  });
}

export interface LockedRenewal {
  status: string;
  journal_id: number | null;
  paid_attempt: number | null;
  paid_via: 'wallet' | 'provider' | null;
}

/** Locks the period's renewal row; a period is paid at most once whatever the attempt. */
export async function lockRenewal(trx: Tx, subscriptionId: string, period: number): Promise<LockedRenewal> {
  const row = await trx('subscription_renewals').where({ subscription_id: subscriptionId, period }).forUpdate().first();
  if (!row) throw new Error(`renewal ${subscriptionId}/${period} was not opened`);
  return row;
}

/** Marks the locked renewal paid by an attempt. */
export async function markRenewalPaid(
  trx: Tx,
  r: { subscriptionId: string; period: number; attempt: number; via: 'wallet' | 'provider'; journalId: number; paymentId?: string },
): Promise<void> {
  await trx('subscription_renewals')
    .where({ subscription_id: r.subscriptionId, period: r.period })
    .update({
      status: 'paid',
      paid_via: r.via,
      paid_attempt: r.attempt,
      journal_id: r.journalId,
      ...(r.paymentId !== undefined ? { provider_payment_id: r.paymentId } : {}),
      attempts: r.attempt,
      last_error: null,
      next_retry_at: null,
      updated_at: trx.fn.now(),
    });
}

export interface RenewalAttempt {
  subscriptionId: string;
  period: number;
  attempt: number;
  method: 'wallet' | 'provider';
  outcome: 'paid' | 'declined' | 'insufficient_wallet';
  errorCode: string | null;
}

/** Records one method of one charge attempt once. */
export async function recordRenewalAttempt(q: Queryable, a: RenewalAttempt): Promise<void> {
  await q.raw(
    `INSERT INTO subscription_renewal_attempts (idempotency_key, subscription_id, period, attempt, method, outcome, error_code)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    [
      renewalAttemptMethodKey(a.subscriptionId, a.period, a.attempt, a.method),
      a.subscriptionId,
      a.period,
      a.attempt,
      a.method,
      a.outcome,
      a.errorCode,
    ],
  );
}

/**
 * Notes the provider payment an unpaid renewal is waiting for, so the provider's webhook finds the
 * renewal (db/webhooks.ts#findPaymentFlow) before it settles. A paid renewal keeps the payment that paid it.
 */
export async function recordRenewalPayment(q: Queryable, r: { subscriptionId: string; period: number; paymentId: string }): Promise<void> {
  await q('subscription_renewals')
    .where({ subscription_id: r.subscriptionId, period: r.period })
    .whereNot({ status: 'paid' })
    .update({ provider_payment_id: r.paymentId, updated_at: q.fn.now() });
}

export interface RenewalRow {
  period: number;
  periodStart: string;
  /** Last day of the period: the day before the next one starts, or paid-through for the current one. */
  periodEnd: string | null;
  amount: number;
  status: string;
  attempts: number;
  paidVia: 'wallet' | 'provider' | null;
  /** The provider's payment id when the period was paid through the payment method. */
  paymentId: string | null;
  journalId: number | null;
  paidAt: string | null;
  lastError: string | null;
  nextRetryAt: string | null;
  refundedAmount: number;
}

interface RenewalListRow {
  period: number;
  period_start: string;
  period_end: string | null;
  amount: number | string;
  status: string;
  attempts: number;
  paid_via: 'wallet' | 'provider' | null;
  provider_payment_id: string | null;
  journal_id: number | string | null;
  paid_at: Date | null;
  last_error: string | null;
  next_retry_at: Date | null;
  refunded_amount: number | string;
}

/** A subscription's renewals, newest period first; `beforePeriod` pages back. */
export async function listRenewals(
  q: Queryable,
  subscriptionId: string,
  opts: { beforePeriod?: number; limit: number },
): Promise<RenewalRow[]> {
  const { rows } = await q.raw(
    `SELECT * FROM (
       SELECT r.period, r.period_start::text AS period_start,
              COALESCE((lead(r.period_start) OVER (ORDER BY r.period) - 1)::text,
                       CASE WHEN r.status = 'paid' THEN s.paid_through::text END) AS period_end,
              r.amount, r.status, r.attempts, r.paid_via, r.provider_payment_id, r.journal_id, j.created_at AS paid_at,
              r.last_error, r.next_retry_at, r.refunded_amount
         FROM subscription_renewals r
         JOIN subscriptions s ON s.id = r.subscription_id
         LEFT JOIN journal j ON j.id = r.journal_id
        WHERE r.subscription_id = ?
     ) t
     WHERE ?::int IS NULL OR t.period < ?::int
     ORDER BY t.period DESC
     LIMIT ?`,
    [subscriptionId, opts.beforePeriod ?? null, opts.beforePeriod ?? null, opts.limit],
  );
  return (rows as RenewalListRow[]).map((r) => ({
    period: r.period,
    periodStart: r.period_start,
    periodEnd: r.period_end,
    amount: Number(r.amount),
    status: r.status,
    attempts: r.attempts,
    paidVia: r.paid_via,
    paymentId: r.paid_via === 'provider' ? r.provider_payment_id : null,
    journalId: r.journal_id === null ? null : Number(r.journal_id),
    paidAt: r.paid_at ? new Date(r.paid_at).toISOString() : null,
    lastError: r.last_error,
    nextRetryAt: r.next_retry_at ? new Date(r.next_retry_at).toISOString() : null,
    refundedAmount: Number(r.refunded_amount),
  }));
}
