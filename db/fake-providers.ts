/**
 * The books of the sandbox providers (infra/fake-payment-provider.ts, infra/fake-payout-provider.ts,
 * infra/sandbox-otp-sender.ts), in the `fake_provider` schema so every process sees the same ones.
 */
import type { Queryable } from './knex';

// --- payments -----------------------------------------------------------------------------------

export interface FakePaymentRow {
  id: string;
  idempotency_key: string;
  amount: number;
  payment_method: string;
  status: string;
  settles_at: Date;
}

/** Records a payment that settles after `settleDelayMs`; a repeat of the key keeps the first one. */
export async function insertFakePayment(
  q: Queryable,
  p: { id: string; idempotencyKey: string; amount: number; paymentMethod: string; settleDelayMs: number },
): Promise<void> {
  await q.raw(
    `INSERT INTO fake_provider.payments (id, idempotency_key, amount, payment_method, status, settles_at)
     VALUES (?, ?, ?, ?, 'succeeded', now() + (? || ' milliseconds')::interval)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [p.id, p.idempotencyKey, p.amount, p.paymentMethod, p.settleDelayMs],
  );
}

export async function fakePaymentById(q: Queryable, paymentId: string): Promise<FakePaymentRow | undefined> {
  return q<FakePaymentRow>('fake_provider.payments').where({ id: paymentId }).first();
}

export async function fakePaymentByKey(q: Queryable, idempotencyKey: string): Promise<FakePaymentRow | undefined> {
  return q<FakePaymentRow>('fake_provider.payments').where({ idempotency_key: idempotencyKey }).first();
}

/**
 * Records a refund unless it would take more than `paymentAmount` in all; one refund at a time per
 * payment (the payment's row lock). The existing id for a repeated key, null when refused.
 */
export async function insertFakeRefund(
  q: Queryable,
  r: { newId: string; idempotencyKey: string; paymentId: string; amount: number; paymentAmount: number },
): Promise<string | null> {
  return q.transaction(async (trx) => {
    await trx.raw(`SELECT 1 FROM fake_provider.payments WHERE id = ? FOR UPDATE`, [r.paymentId]);
    const existing = await trx('fake_provider.refunds').where({ idempotency_key: r.idempotencyKey }).first('id');
    if (existing) return existing.id as string;
    const { rows } = await trx.raw(`SELECT coalesce(sum(amount), 0)::bigint AS total FROM fake_provider.refunds WHERE payment_id = ?`, [
      r.paymentId,
    ]);
    if (rows[0].total + r.amount > r.paymentAmount) return null;
    await trx('fake_provider.refunds').insert({
      id: r.newId,
      idempotency_key: r.idempotencyKey,
      payment_id: r.paymentId,
      amount: r.amount,
    });
    return r.newId;
  });
}

/** How many calls (this one included) were made with `key`: the flaky behaviours count them. */
async function countCall(q: Queryable, table: 'calls' | 'payout_calls', key: string): Promise<number> {
  const { rows } = await q.raw(
    `INSERT INTO fake_provider.${table} (idempotency_key, count) VALUES (?, 1)
     ON CONFLICT (idempotency_key) DO UPDATE SET count = fake_provider.${table}.count + 1 RETURNING count`,
    [key],
  );
  return rows[0].count;
}

export const countFakePaymentCall = (q: Queryable, key: string) => countCall(q, 'calls', key);

// --- payouts ------------------------------------------------------------------------------------

export interface FakePayoutRow {
  id: string;
  idempotency_key: string;
  amount: number;
  bank_account: string;
  /** `succeeded`, or `failed:<code>`. */
  status: string;
  settles_at: Date;
}

/** Records a payout that reaches `status` after `delayMs`; a repeat of the key keeps the first one. */
export async function insertFakePayout(
  q: Queryable,
  p: { id: string; idempotencyKey: string; amount: number; bankAccount: string; status: string; delayMs: number },
): Promise<void> {
  await q.raw(
    `INSERT INTO fake_provider.payouts (id, idempotency_key, amount, bank_account, status, settles_at)
     VALUES (?, ?, ?, ?, ?, now() + (? || ' milliseconds')::interval)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [p.id, p.idempotencyKey, p.amount, p.bankAccount, p.status, p.delayMs],
  );
}

export async function fakePayoutById(q: Queryable, payoutId: string): Promise<FakePayoutRow | undefined> {
  return q<FakePayoutRow>('fake_provider.payouts').where({ id: payoutId }).first();
}

export async function fakePayoutByKey(q: Queryable, idempotencyKey: string): Promise<FakePayoutRow | undefined> {
  return q<FakePayoutRow>('fake_provider.payouts').where({ idempotency_key: idempotencyKey }).first();
}

export const countFakePayoutCall = (q: Queryable, key: string) => countCall(q, 'payout_calls', key);

// --- one-time codes -----------------------------------------------------------------------------

export interface FakeOtpMessageRow {
  phone: string;
  code: string;
  body: string;
  created_at: Date;
}

export async function insertFakeOtpMessage(q: Queryable, m: { phone: string; code: string; body: string }): Promise<void> {
  await q('fake_provider.otp_messages').insert(m);
}

/** The newest messages to `phone`, newest first. */
export async function fakeOtpMessagesTo(q: Queryable, phone: string, limit: number): Promise<FakeOtpMessageRow[]> {
  return q<FakeOtpMessageRow>('fake_provider.otp_messages').where({ phone }).orderBy('id', 'desc').limit(limit);
}

// --- mandates (recurring debits) ----------------------------------------------------------------

export interface FakeMandateTokenRow {
  token_id: string;
  customer_id: string;
  max_amount: string | number;
  status: string;
  debits: number;
}

export interface FakeMandateNoticeRow {
  order_id: string;
  idempotency_key: string;
  token_id: string;
  amount: string | number;
  payment_after: Date;
  notified_at: Date;
  payment_id: string | null;
  debited_at: Date | null;
}

export async function insertFakeMandateToken(q: Queryable, t: { tokenId: string; customerId: string; maxAmount: number; status: string }) {
  await q.raw(
    `INSERT INTO fake_provider.mandate_tokens (token_id, customer_id, max_amount, status) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    [t.tokenId, t.customerId, t.maxAmount, t.status],
  );
}

export async function fakeMandateToken(q: Queryable, tokenId: string): Promise<FakeMandateTokenRow | undefined> {
  return q<FakeMandateTokenRow>('fake_provider.mandate_tokens').where({ token_id: tokenId }).first();
}

/** The customer paused, resumed or revoked the mandate from their UPI app. */
export async function setFakeMandateTokenStatus(q: Queryable, tokenId: string, status: string): Promise<void> {
  await q('fake_provider.mandate_tokens').where({ token_id: tokenId }).update({ status });
}

/** Records the pre-debit notice once per key and returns it. */
export async function insertFakeMandateNotice(
  q: Queryable,
  n: { orderId: string; idempotencyKey: string; tokenId: string; amount: number; paymentAfter: Date },
): Promise<FakeMandateNoticeRow> {
  await q.raw(
    `INSERT INTO fake_provider.mandate_notices (order_id, idempotency_key, token_id, amount, payment_after)
     VALUES (?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
    [n.orderId, n.idempotencyKey, n.tokenId, n.amount, n.paymentAfter],
  );
  return (await q<FakeMandateNoticeRow>('fake_provider.mandate_notices').where({ idempotency_key: n.idempotencyKey }).first())!;
}

/**
 * Debits a noticed order once, under the notice's row lock: `decide` sees the notice and its token
 * (with the number of debits made on it) and answers the payment to record, or throws to refuse.
 * A repeat returns the payment already made.
 */
export async function debitFakeMandate(
  q: Queryable,
  orderId: string,
  decide: (
    notice: FakeMandateNoticeRow,
    token: FakeMandateTokenRow | undefined,
  ) => { status: 'succeeded' | 'failed'; settleDelayMs: number },
): Promise<{ paymentId: string; created: boolean }> {
  return q.transaction(async (trx) => {
    const notice = await trx<FakeMandateNoticeRow>('fake_provider.mandate_notices').where({ order_id: orderId }).forUpdate().first();
    if (!notice) throw new Error(`no pre-debit notice for order ${orderId}`);
    if (notice.payment_id) return { paymentId: notice.payment_id, created: false };
    const token = await trx<FakeMandateTokenRow>('fake_provider.mandate_tokens').where({ token_id: notice.token_id }).forUpdate().first();
    const { status, settleDelayMs } = decide(notice, token);
    await trx.raw(
      `INSERT INTO fake_provider.payments (id, idempotency_key, amount, payment_method, status, settles_at)
       VALUES (?, ?, ?, ?, ?, now() + (? || ' milliseconds')::interval)`,
      [orderId, `${notice.idempotency_key}:debit`, notice.amount, `mandate:${notice.token_id}`, status, settleDelayMs],
    );
    await trx('fake_provider.mandate_notices').where({ order_id: orderId }).update({ payment_id: orderId, debited_at: trx.fn.now() });
    await trx('fake_provider.mandate_tokens').where({ token_id: notice.token_id }).increment('debits', 1);
    return { paymentId: orderId, created: true };
  });
}

/** Every notice made on a token, oldest first (the sandbox's books, for tests). */
export async function fakeMandateNotices(q: Queryable, tokenId: string): Promise<FakeMandateNoticeRow[]> {
  return q<FakeMandateNoticeRow>('fake_provider.mandate_notices').where({ token_id: tokenId }).orderBy('notified_at');
}
