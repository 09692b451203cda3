/**
 * subscription_mandates (a registered UPI Autopay / card e-mandate token) and mandate_debits (one row
 * per charge attempt against one: its pre-debit notice, the earliest debit instant and the outcome).
 * The one-debit-per-cycle rule is the partial unique index on mandate_debits (migration 20261207020100).
 */
import type { Queryable, Tx } from './knex';

export type MandateStatus = 'active' | 'paused' | 'cancelled';
export type MandateMethod = 'upi' | 'card' | 'emandate';

export interface Mandate {
  id: string;
  subscriptionId: string;
  customerId: string;
  providerCustomerId: string;
  tokenId: string;
  method: MandateMethod;
  maxAmount: number;
  status: MandateStatus;
}

interface MandateRow {
  id: string;
  subscription_id: string;
  customer_id: string;
  provider_customer_id: string;
  token_id: string;
  method: MandateMethod;
  max_amount: string | number;
  status: MandateStatus;
}

const toMandate = (r: MandateRow): Mandate => ({
  id: r.id,
  subscriptionId: r.subscription_id,
  customerId: r.customer_id,
  providerCustomerId: r.provider_customer_id,
  tokenId: r.token_id,
  method: r.method,
  maxAmount: Number(r.max_amount),
  status: r.status,
});

/** Records a confirmed mandate once per token; a repeat returns the one already recorded. */
export async function insertMandate(q: Queryable, m: Mandate): Promise<Mandate> {
  const { rows } = await q.raw(
    `INSERT INTO subscription_mandates (id, subscription_id, customer_id, provider_customer_id, token_id, method, max_amount, status)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (token_id) DO UPDATE SET updated_at = subscription_mandates.updated_at
     RETURNING *`,
    [m.id, m.subscriptionId, m.customerId, m.providerCustomerId, m.tokenId, m.method, m.maxAmount, m.status],
  );
  return toMandate(rows[0] as MandateRow);
}

export async function mandateById(q: Queryable, id: string): Promise<Mandate | null> {
  const row = await q<MandateRow>('subscription_mandates').where({ id }).first();
  return row ? toMandate(row) : null;
}

export async function mandatesOfSubscription(q: Queryable, subscriptionId: string): Promise<Mandate[]> {
  const rows = await q<MandateRow>('subscription_mandates').where({ subscription_id: subscriptionId }).orderBy('created_at', 'desc');
  return rows.map(toMandate);
}

/**
 * A token webhook: the mandate's new status. Null when the token is not ours; `changed` false when
 * it already had that status (a cancelled mandate never becomes paused again).
 */
export async function setMandateStatusByToken(
  q: Queryable,
  tokenId: string,
  status: Exclude<MandateStatus, 'active'>,
): Promise<{ mandate: Mandate; changed: boolean } | null> {
  const { rows } = await q.raw(
    `UPDATE subscription_mandates SET status = ?, updated_at = now()
      WHERE token_id = ? AND status <> 'cancelled' AND status <> ?
      RETURNING *`,
    [status, tokenId, status],
  );
  if (rows.length) return { mandate: toMandate(rows[0] as MandateRow), changed: true };
  const row = await q<MandateRow>('subscription_mandates').where({ token_id: tokenId }).first();
  return row ? { mandate: toMandate(row), changed: false } : null;
}

// --- debits -------------------------------------------------------------------------------------

export interface MandateDebitRow {
  subscription_id: string;
  period: number;
  attempt: number;
  mandate_id: string;
  amount: string | number;
  order_id: string | null;
  notified_at: Date | null;
  debit_after: Date;
  debited_at: Date | null;
  status: 'notified' | 'debiting' | 'succeeded' | 'failed';
  error_code: string | null;
}

export interface DebitAttempt {
  subscriptionId: string;
  period: number;
  attempt: number;
}

const attemptWhere = (a: DebitAttempt) => ({ subscription_id: a.subscriptionId, period: a.period, attempt: a.attempt });

/** Opens the attempt's debit row (a repeat keeps the first one) and returns it. */
export async function openMandateDebit(
  q: Queryable,
  a: DebitAttempt & { mandateId: string; amount: number; debitAfter: Date },
): Promise<MandateDebitRow> {
  await q.raw(
    `INSERT INTO mandate_debits (subscription_id, period, attempt, mandate_id, amount, debit_after, status)
     VALUES (?, ?, ?, ?, ?, ?, 'notified') ON CONFLICT DO NOTHING`,
    [a.subscriptionId, a.period, a.attempt, a.mandateId, a.amount, a.debitAfter],
  );
  return (await mandateDebit(q, a))!;
}

export async function mandateDebit(q: Queryable, a: DebitAttempt): Promise<MandateDebitRow | undefined> {
  return q<MandateDebitRow>('mandate_debits').where(attemptWhere(a)).first();
}

/** The pre-debit notice went out for the provider's order. */
export async function recordMandateNotice(
  q: Queryable,
  a: DebitAttempt & { orderId: string; debitAfter: Date; noticeMs: number },
): Promise<void> {
  // The provider's payment_after (whole seconds, rounded up) may be later than asked, and the notice is
  // recorded a moment after it went out: the latest of them holds, never less than the notice period.
  await q.raw(
    `UPDATE mandate_debits
        SET order_id = ?, notified_at = now(), updated_at = now(),
            debit_after = greatest(debit_after, ?::timestamptz, now() + (? || ' milliseconds')::interval)
      WHERE subscription_id = ? AND period = ? AND attempt = ? AND notified_at IS NULL`,
    [a.orderId, a.debitAfter, a.noticeMs, a.subscriptionId, a.period, a.attempt],
  );
}

/**
 * Moves the attempt to `debiting` unless another attempt of the cycle is debiting or paid (the
 * unique index refuses it): 'ok' (this attempt may call the provider, again after a crash), or
 * 'other_attempt' (never a second debit in the cycle).
 */
export async function claimMandateDebit(trx: Tx, a: DebitAttempt): Promise<'ok' | 'other_attempt'> {
  const row = await trx<MandateDebitRow>('mandate_debits').where(attemptWhere(a)).forUpdate().first();
  if (!row) throw new Error(`mandate debit ${a.subscriptionId}/${a.period}/${a.attempt} was not noticed`);
  if (row.status === 'debiting' || row.status === 'succeeded') return 'ok';
  if (row.status === 'failed') return 'other_attempt';
  try {
    await trx.transaction((sp) =>
      sp('mandate_debits').where(attemptWhere(a)).update({ status: 'debiting', debited_at: sp.fn.now(), updated_at: sp.fn.now() }),
    );
    return 'ok';
  } catch (err) {
    if ((err as { code?: string }).code === '23505') return 'other_attempt';
    throw err;
  }
}

/** The debit's outcome (a succeeded debit stays succeeded). */
export async function finishMandateDebit(q: Queryable, a: DebitAttempt & { status: 'succeeded' | 'failed'; errorCode?: string }) {
  await q('mandate_debits')
    .where(attemptWhere(a))
    .whereNot({ status: 'succeeded' })
    .update({ status: a.status, error_code: a.errorCode ?? null, updated_at: q.fn.now() });
}

/** Every debit row of a subscription, oldest first (tests and support). */
export async function mandateDebitsOf(q: Queryable, subscriptionId: string): Promise<MandateDebitRow[]> {
  return q<MandateDebitRow>('mandate_debits').where({ subscription_id: subscriptionId }).orderBy(['period', 'attempt']);
}

// --- authorisations -----------------------------------------------------------------------------

export interface MandateAuthorisation {
  orderId: string;
  subscriptionId: string;
  providerCustomerId: string;
  method: MandateMethod;
  maxAmount: number;
}

export async function insertMandateAuthorisation(q: Queryable, a: MandateAuthorisation): Promise<void> {
  await q.raw(
    `INSERT INTO mandate_authorisations (order_id, subscription_id, provider_customer_id, method, max_amount)
     VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    [a.orderId, a.subscriptionId, a.providerCustomerId, a.method, a.maxAmount],
  );
}

/** The authorisation started for this subscription with this order; null for any other order. */
export async function mandateAuthorisation(q: Queryable, subscriptionId: string, orderId: string): Promise<MandateAuthorisation | null> {
  const row = await q('mandate_authorisations').where({ order_id: orderId, subscription_id: subscriptionId }).first();
  if (!row) return null;
  return {
    orderId: row.order_id,
    subscriptionId: row.subscription_id,
    providerCustomerId: row.provider_customer_id,
    method: row.method,
    maxAmount: Number(row.max_amount),
  };
}
