import { createHash, randomUUID } from 'node:crypto';
import {
  countFakePaymentCall,
  debitFakeMandate,
  fakeMandateToken,
  insertFakeMandateNotice,
  insertFakeMandateToken,
  fakePaymentById,
  fakePaymentByKey,
  insertFakePayment,
  insertFakeRefund,
  type FakePaymentRow,
} from '../db/fake-providers';
import type { Db } from '../db/knex';
import {
  type MandateAuthorisationRequest,
  type MandateDebitNoticeRequest,
  type MandateDebitRequest,
  type MandateRails,
  type MandateToken,
  type MandateTokenStatus,
  PaymentDeclinedError,
  ProviderUnavailableError,
  RefundRejectedError,
  type CreatePaymentRequest,
  type PaymentProvider,
  type ProviderPayment,
  type WebhookEvent,
  WEBHOOK_SIGNATURE_HEADER,
  webhookHmac,
} from './payment-provider';

/**
 * A sandbox PSP that lives in our repo. Its books are in the `fake_provider` schema so every
 * process sees the same payments. The payment-method token picks the behaviour:
 *   pm_ok                  succeeds after `settleDelayMs`, then sends a signed webhook (retried if not answered 2xx)
 *   pm_declined            declined (card_declined), non-retryable
 *   pm_insufficient_funds  declined (insufficient_funds), non-retryable
 *   pm_flaky / pm_flaky_N  unavailable for the first N calls with a key (default 2), then like pm_ok
 *   pm_timeout             accepted, but never sends a webhook: only polling finds it succeeded
 *   pm_refund_flaky / _N   pays like pm_ok; each refund of it is unavailable for its first N calls (default 2)
 *   pm_slow                the first call with a key makes the payment, then answers unavailable (a timeout
 *                          after the provider acted): the retry with the same key finds it
 *   pm_refund_reject       pays like pm_ok; every refund of it is rejected (RefundRejectedError)
 * (the Razorpay fake in test/support/razorpay-fake answers the same tokens the same way, as Razorpay's shapes)
 * Refunds are idempotent on their key and never exceed what the payment has left to refund.
 *
 * Mandates (`mandates`, the same state machine as the Razorpay fake in test/support/razorpay-fake):
 * an authorisation is approved at once and its token is `confirmed`; the customer's email picks
 * what its debits do (see `mandateBehaviour`); a debit is refused before its notice's
 * `payment_after`, on a token that is not confirmed, or above the token's limit.
 */
export interface FakePaymentProviderOptions {
  settleDelayMs?: number;
  webhookUrl?: string;
  webhookSecret?: string;
}

const DEFAULT_FLAKY_FAILURES = 2;
const REFUND_FLAKY = /^pm_refund_flaky(?:_(\d+))?$/;

// After the first delivery fails: like real providers, retry the same event a few times.
const WEBHOOK_RETRY_DELAYS_MS = [1_000, 5_000];

/** The signature header value for `body` sent at `timestampSeconds` (now, by default). */
export function signWebhook(body: string, secret: string, timestampSeconds = Math.floor(Date.now() / 1000)): string {
  return `t=${timestampSeconds},v1=${webhookHmac(secret, timestampSeconds, body)}`;
}

/** One id per (payment, event type), so every retry of an event carries the same id. */
export function webhookEventId(paymentId: string, type: WebhookEvent['type']): string {
  return `evt_${createHash('sha256').update(`${paymentId}:${type}`).digest('hex').slice(0, 24)}`;
}

/**
 * What a mandate's debits do, from the token id (made from the customer's email at authorisation):
 * `debit_fail_N@…` fails the first N debits (`token_fN_…`), `debit_fail@…` fails every one
 * (`token_fa_…`), anything else succeeds (`token_ok_…`). Shared with the Razorpay fake.
 */
export function mandateTokenPrefix(email: string): string {
  const m = /^debit_fail(?:_(\d+))?@/.exec(email);
  if (!m) return 'token_ok_';
  return m[1] ? `token_f${m[1]}_` : 'token_fa_';
}

/** Whether the token's next debit (after `debitsSoFar` of them) fails. */
export function mandateDebitFails(tokenId: string, debitsSoFar: number): boolean {
  if (tokenId.startsWith('token_fa_')) return true;
  const m = /^token_f(\d+)_/.exec(tokenId);
  return m ? debitsSoFar < Number(m[1]) : false;
}

const hex = (n: number) => randomUUID().replace(/-/g, '').slice(0, n);

/** The sandbox's recurring debits (see the class comment above). */
class FakeMandates implements MandateRails {
  constructor(
    private readonly db: Db,
    private readonly settleDelayMs: number,
    private readonly onDebited: (payment: ProviderPayment, metadata: Record<string, string>) => void,
  ) {}

  async createMandateAuthorisation(req: MandateAuthorisationRequest): Promise<{ providerCustomerId: string; orderId: string }> {
    const providerCustomerId = `cust_${createHash('sha256').update(req.customer.email).digest('hex').slice(0, 14)}`;
    const digest = createHash('sha256').update(req.idempotencyKey).digest('hex').slice(0, 14);
    // The authorisation order and its token are both derived from the key: a repeat is the same authorisation.
    await insertFakeMandateToken(this.db, {
      tokenId: `${mandateTokenPrefix(req.customer.email)}${digest}`,
      customerId: providerCustomerId,
      maxAmount: req.maxAmount,
      status: 'confirmed',
    });
    return { providerCustomerId, orderId: `order_auth_${mandateTokenPrefix(req.customer.email).slice(6)}${digest}` };
  }

  async tokenOfAuthorisation(orderId: string): Promise<MandateToken | null> {
    const m = /^order_auth_(.+)$/.exec(orderId);
    if (!m) return null;
    const row = await fakeMandateToken(this.db, `token_${m[1]}`);
    return row ? this.view(row) : null;
  }

  async getMandateToken(providerCustomerId: string, tokenId: string): Promise<MandateToken> {
    const row = await fakeMandateToken(this.db, tokenId);
    if (!row || row.customer_id !== providerCustomerId) throw new PaymentDeclinedError('mandate_inactive', `token ${tokenId} not found`);
    return this.view(row);
  }

  async notifyMandateDebit(req: MandateDebitNoticeRequest): Promise<{ orderId: string; paymentAfterMs: number }> {
    const token = await this.getMandateToken(req.providerCustomerId, req.tokenId);
    if (token.status !== 'confirmed') throw new PaymentDeclinedError('mandate_inactive', `token ${req.tokenId} is ${token.status}`);
    if (req.amount > token.maxAmount) throw new PaymentDeclinedError('amount_above_mandate_limit', `above the mandate's limit`);
    // Razorpay takes payment_after in whole seconds: rounded up, as it would be.
    const paymentAfter = new Date(Math.ceil(req.paymentAfterMs / 1000) * 1000);
    const notice = await insertFakeMandateNotice(this.db, {
      orderId: `order_${hex(14)}`,
      idempotencyKey: req.idempotencyKey,
      tokenId: req.tokenId,
      amount: req.amount,
      paymentAfter,
    });
    return { orderId: notice.order_id, paymentAfterMs: new Date(notice.payment_after).getTime() };
  }

  async debitMandate(req: MandateDebitRequest): Promise<ProviderPayment> {
    const { paymentId, created } = await debitFakeMandate(this.db, req.orderId, (notice, token) => {
      if (Date.now() < new Date(notice.payment_after).getTime()) {
        throw new PaymentDeclinedError('debit_before_notice', `debit of ${req.orderId} before its pre-debit window`);
      }
      if (!token || token.status !== 'confirmed')
        throw new PaymentDeclinedError('mandate_inactive', `token ${notice.token_id} is not confirmed`);
      if (Number(notice.amount) > Number(token.max_amount)) throw new PaymentDeclinedError('amount_above_mandate_limit', 'above the limit');
      return { status: mandateDebitFails(token.token_id, token.debits) ? 'failed' : 'succeeded', settleDelayMs: this.settleDelayMs };
    });
    const row = await fakePaymentById(this.db, paymentId);
    const payment: ProviderPayment = {
      id: paymentId,
      amount: Number(row!.amount),
      paymentMethod: row!.payment_method,
      status: new Date(row!.settles_at).getTime() <= Date.now() ? (row!.status as ProviderPayment['status']) : 'processing',
    };
    if (created && row!.status === 'succeeded') this.onDebited(payment, req.metadata ?? {});
    return payment;
  }

  private view(row: { token_id: string; customer_id: string; max_amount: string | number; status: string }): MandateToken {
    return {
      tokenId: row.token_id,
      providerCustomerId: row.customer_id,
      method: 'upi',
      status: row.status as MandateTokenStatus,
      maxAmount: Number(row.max_amount),
    };
  }
}

export class FakePaymentProvider implements PaymentProvider {
  private readonly settleDelayMs: number;
  readonly mandates: MandateRails;

  constructor(
    private readonly db: Db,
    private readonly options: FakePaymentProviderOptions = {},
  ) {
    this.settleDelayMs = options.settleDelayMs ?? 200;
    this.mandates = new FakeMandates(db, this.settleDelayMs, (payment, metadata) => this.sendWebhookLater(payment, metadata));
  }

  async createPayment(req: CreatePaymentRequest): Promise<ProviderPayment> {
    const method = req.paymentMethod;
    if (method === 'pm_declined') throw new PaymentDeclinedError('card_declined', 'The card was declined');
    if (method === 'pm_insufficient_funds') throw new PaymentDeclinedError('insufficient_funds', 'Insufficient funds on the card');
    const flaky = /^pm_flaky(?:_(\d+))?$/.exec(method);
    if (flaky) {
      await this.failFirstCalls(req.idempotencyKey, flaky[1]);
    } else if (
      method !== 'pm_ok' &&
      method !== 'pm_timeout' &&
      method !== 'pm_slow' &&
      method !== 'pm_refund_reject' &&
      !REFUND_FLAKY.test(method)
    ) {
      throw new PaymentDeclinedError('card_declined', `Unknown payment method ${method}`);
    }

    const id = `pay_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    await insertFakePayment(this.db, {
      id,
      idempotencyKey: req.idempotencyKey,
      amount: req.amount,
      paymentMethod: method,
      settleDelayMs: this.settleDelayMs,
    });
    const payment = await this.byKey(req.idempotencyKey);
    if (payment.id === id && method !== 'pm_timeout') this.sendWebhookLater(payment, req.metadata ?? {});
    if (method === 'pm_slow' && (await this.countCall(`slow:${req.idempotencyKey}`)) === 1) {
      throw new ProviderUnavailableError('provider timed out after making the payment');
    }
    return payment;
  }

  async getPayment(paymentId: string): Promise<ProviderPayment> {
    const row = await fakePaymentById(this.db, paymentId);
    if (!row) throw new ProviderUnavailableError(`payment ${paymentId} not found`);
    return this.view(row);
  }

  async refundPayment(req: { idempotencyKey: string; paymentId: string; amount: number }): Promise<{ id: string }> {
    const payment = await this.getPayment(req.paymentId);
    if (payment.paymentMethod === 'pm_refund_reject') {
      throw new RefundRejectedError(`refund of ${req.amount} rejected for payment ${req.paymentId}`);
    }
    const refundFlaky = REFUND_FLAKY.exec(payment.paymentMethod);
    if (refundFlaky) await this.failFirstCalls(`refund:${req.idempotencyKey}`, refundFlaky[1]);
    // One refund at a time per payment, so concurrent refunds cannot exceed it.
    const id = await insertFakeRefund(this.db, {
      newId: `re_${randomUUID().replace(/-/g, '').slice(0, 20)}`,
      idempotencyKey: req.idempotencyKey,
      paymentId: req.paymentId,
      amount: req.amount,
      paymentAmount: payment.amount,
    });
    if (id === null) throw new RefundRejectedError(`refund of ${req.amount} exceeds what is left of payment ${req.paymentId}`);
    return { id };
  }

  /** Fails the first `failures` calls made with `key` as unavailable (a transient outage). */
  private async failFirstCalls(key: string, failures: string | undefined): Promise<void> {
    const calls = await this.countCall(key);
    const limit = failures ? Number(failures) : DEFAULT_FLAKY_FAILURES;
    if (calls <= limit) throw new ProviderUnavailableError(`provider unavailable (call ${calls} of ${limit} failing)`);
  }

  private async countCall(key: string): Promise<number> {
    return countFakePaymentCall(this.db, key);
  }

  private async byKey(key: string): Promise<ProviderPayment> {
    const row = await fakePaymentByKey(this.db, key);
    if (!row) throw new ProviderUnavailableError(`payment with key ${key} not found`);
    return this.view(row);
  }

  private view(row: FakePaymentRow): ProviderPayment {
    const settled = new Date(row.settles_at).getTime() <= Date.now();
    return {
      id: row.id,
      amount: row.amount,
      paymentMethod: row.payment_method,
      status: settled ? (row.status as ProviderPayment['status']) : 'processing',
    };
  }

  private sendWebhookLater(payment: ProviderPayment, metadata: Record<string, string>): void {
    const { webhookUrl, webhookSecret } = this.options;
    if (!webhookUrl || !webhookSecret) return;
    const type = 'payment.succeeded';
    const event: WebhookEvent = { id: webhookEventId(payment.id, type), type, paymentId: payment.id, amount: payment.amount, metadata };
    const body = JSON.stringify(event);
    const deliver = async (attempt: number): Promise<void> => {
      // Each delivery is signed when it is sent: a retry carries a fresh timestamp, the same event id.
      let delivered = false;
      try {
        const res = await fetch(webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [WEBHOOK_SIGNATURE_HEADER]: signWebhook(body, webhookSecret) },
          body,
        });
        await res.arrayBuffer();
        delivered = res.ok;
      } catch {
        // the endpoint could not be reached: retried below like any other failed delivery
      }
      const retryIn = WEBHOOK_RETRY_DELAYS_MS[attempt];
      // Once the retries are spent the event is lost, as with real providers; the workflow polls as a fallback.
      if (!delivered && retryIn !== undefined) setTimeout(() => void deliver(attempt + 1), retryIn).unref();
    };
    setTimeout(() => void deliver(0), this.settleDelayMs + 20).unref();
  }
}
