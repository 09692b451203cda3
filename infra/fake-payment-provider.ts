import { createHash, randomUUID } from 'node:crypto';
import {
  countFakePaymentCall,
  fakePaymentById,
  fakePaymentByKey,
  insertFakePayment,
  insertFakeRefund,
  type FakePaymentRow,
} from '../db/fake-providers';
import type { Db } from '../db/knex';
import {
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
 * Refunds are idempotent on their key and never exceed what the payment has left to refund.
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

export class FakePaymentProvider implements PaymentProvider {
  private readonly settleDelayMs: number;

  constructor(
    private readonly db: Db,
    private readonly options: FakePaymentProviderOptions = {},
  ) {
    this.settleDelayMs = options.settleDelayMs ?? 200;
  }

  async createPayment(req: CreatePaymentRequest): Promise<ProviderPayment> {
    const method = req.paymentMethod;
    if (method === 'pm_declined') throw new PaymentDeclinedError('card_declined', 'The card was declined');
    if (method === 'pm_insufficient_funds') throw new PaymentDeclinedError('insufficient_funds', 'Insufficient funds on the card');
    const flaky = /^pm_flaky(?:_(\d+))?$/.exec(method);
    if (flaky) {
      await this.failFirstCalls(req.idempotencyKey, flaky[1]);
    } else if (method !== 'pm_ok' && method !== 'pm_timeout' && !REFUND_FLAKY.test(method)) {
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
    return payment;
  }

  async getPayment(paymentId: string): Promise<ProviderPayment> {
    const row = await fakePaymentById(this.db, paymentId);
    if (!row) throw new ProviderUnavailableError(`payment ${paymentId} not found`);
    return this.view(row);
  }

  async refundPayment(req: { idempotencyKey: string; paymentId: string; amount: number }): Promise<{ id: string }> {
    const payment = await this.getPayment(req.paymentId);
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
