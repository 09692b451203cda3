/**
 * Razorpay as Mandi's PaymentProvider, through the official `razorpay` SDK.
 *
 * A Mandi payment is a Razorpay ORDER: `receipt` = our idempotency key (so a retry finds the order
 * it already made instead of making a second), `notes` carry our reference, amounts in paise. The
 * customer pays it through Razorpay Checkout (or a mandate debit), so the id Mandi records is the
 * order id; `getPayment` reads the order's payments (the polling fallback), captures one that is only
 * authorised, and answers from the captured one. Webhooks carry `order_id`, found from our records.
 */
import Razorpay from 'razorpay';
import type { ProviderPayment, PaymentProvider, CreatePaymentRequest } from '../payment-provider';
import { ProviderUnavailableError } from '../payment-provider';
import { toMandiError, type Operation } from './errors';
import { RazorpayMandates } from './mandates';
import { receiptFor } from './receipt';

export interface RazorpayOptions {
  keyId: string;
  keySecret: string;
  /** https://api.razorpay.com, or a local fake in tests. */
  apiUrl: string;
  timeoutMs: number;
}

interface RzOrder {
  id: string;
  amount: number;
  status: 'created' | 'attempted' | 'paid';
  receipt?: string;
  notes?: Record<string, string>;
}
interface RzPayment {
  id: string;
  amount: number;
  status: 'created' | 'authorized' | 'captured' | 'refunded' | 'failed';
  order_id?: string;
}
interface RzRefund {
  id: string;
  status: 'pending' | 'processed' | 'failed';
}

/** The SDK's axios instance: refunds need a header the SDK's helpers do not let through (see refundPayment). */
interface SdkTransport {
  api: {
    rq: {
      defaults: { baseURL?: string; timeout?: number };
      post: (url: string, body: unknown, cfg: unknown) => Promise<{ data: unknown }>;
    };
  };
}

export function razorpayClient(o: RazorpayOptions): Razorpay {
  const rz = new Razorpay({ key_id: o.keyId, key_secret: o.keySecret });
  // The SDK hard-codes api.razorpay.com and sets no timeout: a hung call would hold an activity
  // until its own timeout instead of failing fast as "unavailable" and being retried with the same key.
  const t = rz as unknown as SdkTransport;
  t.api.rq.defaults.baseURL = o.apiUrl;
  t.api.rq.defaults.timeout = o.timeoutMs;
  return rz;
}

export { receiptFor };

export class RazorpayPaymentProvider implements PaymentProvider {
  readonly mandates: RazorpayMandates;

  constructor(readonly rz: Razorpay) {
    this.mandates = new RazorpayMandates(this);
  }

  async createPayment(req: CreatePaymentRequest): Promise<ProviderPayment> {
    const receipt = receiptFor(req.idempotencyKey);
    const existing = await this.call('payment', `order ${receipt}`, () => this.rz.orders.all({ receipt }) as Promise<{ items: RzOrder[] }>);
    const mine = existing.items.find((o) => o.notes?.mandi_key === req.idempotencyKey);
    const order =
      mine ??
      (await this.call(
        'payment',
        `order ${receipt}`,
        () =>
          this.rz.orders.create({
            amount: req.amount,
            currency: 'INR',
            receipt,
            notes: { ...req.metadata, mandi_key: req.idempotencyKey, mandi_payment_method: req.paymentMethod },
          }) as unknown as Promise<RzOrder>,
      ));
    return this.view(order, req.paymentMethod);
  }

  async getPayment(orderId: string): Promise<ProviderPayment> {
    const order = await this.call('payment', `order ${orderId}`, () => this.rz.orders.fetch(orderId) as unknown as Promise<RzOrder>);
    return this.view(order, order.notes?.mandi_payment_method ?? 'razorpay');
  }

  /**
   * Refunds the order's captured payment. `X-Refund-Idempotency` = our key makes a retry after a
   * timeout return the refund already made; Razorpay's own cap (never more than captured) answers
   * 400, which is RefundRejectedError.
   */
  async refundPayment(req: { idempotencyKey: string; paymentId: string; amount: number }): Promise<{ id: string }> {
    const captured = await this.capturedPayment(req.paymentId);
    if (!captured) throw new ProviderUnavailableError(`order ${req.paymentId} has no captured payment to refund yet`);
    const t = this.rz as unknown as SdkTransport;
    const refund = await this.call('refund', `refund ${req.idempotencyKey}`, async () => {
      // The SDK's payments.refund() drops every header but Content-Type (dist/api.js#getValidHeaders),
      // so the idempotent refund goes through the SDK's own HTTP client (same auth, base URL, timeout).
      try {
        const res = await t.api.rq.post(
          `/v1/payments/${captured.id}/refund`,
          { amount: req.amount, speed: 'normal', receipt: receiptFor(req.idempotencyKey), notes: { mandi_key: req.idempotencyKey } },
          { headers: { 'X-Refund-Idempotency': req.idempotencyKey } },
        );
        return res.data as RzRefund;
      } catch (err) {
        const r = (err as { response?: { status: number; data?: { error?: unknown } } }).response;
        throw r ? { statusCode: r.status, error: r.data?.error } : err;
      }
    });
    return { id: refund.id };
  }

  /** The order's captured payment, capturing an authorised one first (auto-capture may be off). */
  private async capturedPayment(orderId: string): Promise<RzPayment | null> {
    const { items } = await this.call(
      'payment',
      `payments of ${orderId}`,
      () => this.rz.orders.fetchPayments(orderId) as unknown as Promise<{ items: RzPayment[] }>,
    );
    const done = items.find((p) => p.status === 'captured' || p.status === 'refunded');
    if (done) return done;
    const authorised = items.find((p) => p.status === 'authorized');
    if (!authorised) return null;
    return this.call(
      'payment',
      `capture ${authorised.id}`,
      () => this.rz.payments.capture(authorised.id, authorised.amount, 'INR') as unknown as Promise<RzPayment>,
    );
  }

  /**
   * Order → Mandi status: `paid` (or a captured payment) succeeded; a payment that failed with no
   * other attempt under way failed; anything else (created, attempted, authorised) is processing.
   */
  private async view(order: RzOrder, paymentMethod: string): Promise<ProviderPayment> {
    const base = { id: order.id, amount: order.amount, paymentMethod };
    if (order.status === 'created') return { ...base, status: 'processing' };
    const captured = await this.capturedPayment(order.id);
    if (captured || order.status === 'paid') return { ...base, status: 'succeeded' };
    const { items } = await this.call(
      'payment',
      `payments of ${order.id}`,
      () => this.rz.orders.fetchPayments(order.id) as unknown as Promise<{ items: RzPayment[] }>,
    );
    const failed = items.length > 0 && items.every((p) => p.status === 'failed');
    return { ...base, status: failed ? 'failed' : 'processing' };
  }

  /** One SDK call, its failure mapped to Mandi's errors (errors.ts). */
  async call<T>(op: Operation, what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toMandiError(err, op, what);
    }
  }
}
