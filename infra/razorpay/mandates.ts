/**
 * Razorpay recurring payments (UPI Autopay, card and e-mandates) as Mandi's MandateRails, through the
 * official SDK:
 *   authorisation  POST /v1/customers (fail_existing 0), then POST /v1/orders with `customer_id`,
 *                  `method` and `token { max_amount, expire_at, frequency: as_presented }`; the
 *                  customer approves it on Checkout (`recurring: 1`), which makes the token
 *   the token      GET /v1/orders/:id/payments (its `token_id`), GET /v1/customers/:id/tokens/:token_id
 *   a debit        the decoupled flow: POST /v1/orders with `notification { token_id, payment_after }`
 *                  (Razorpay sends the pre-debit notification), then, no earlier than payment_after,
 *                  POST /v1/payments/create/recurring on that order. Razorpay does not retry a debit
 *                  made this way: the subscription's dunning does, each retry with a new notice.
 * Idempotency as for payments: each order's `receipt` is our key (notes.mandi_key holds it whole), and
 * a debit first reads the order's payments, so a retried step finds the payment it already made.
 */
import type Razorpay from 'razorpay';
import type {
  MandateAuthorisationRequest,
  MandateDebitNoticeRequest,
  MandateDebitRequest,
  MandateMethod,
  MandateRails,
  MandateToken,
  MandateTokenStatus,
  ProviderPayment,
} from '../payment-provider';
import type { RazorpayPaymentProvider } from './payment-provider';
import { receiptFor } from './receipt';

interface RzOrder {
  id: string;
  amount: number;
  status: string;
  receipt?: string;
  notes?: Record<string, string>;
  notification?: { token_id?: string; payment_after?: number } | null;
}
interface RzPayment {
  id: string;
  status: string;
  order_id?: string;
  customer_id?: string | null;
  token_id?: string | null;
}
interface RzToken {
  id: string;
  method?: string;
  max_amount?: number;
  recurring_details?: { status?: string } | null;
  customer_id?: string;
}
interface RzCustomer {
  id: string;
  email?: string | null;
  contact?: string | null;
}

const TOKEN_STATUSES: readonly MandateTokenStatus[] = [
  'initiated',
  'confirmed',
  'paused',
  'cancellation_initiated',
  'cancelled',
  'rejected',
  'expired',
];

export class RazorpayMandates implements MandateRails {
  constructor(private readonly p: RazorpayPaymentProvider) {}

  private get rz(): Razorpay {
    return this.p.rz;
  }

  async createMandateAuthorisation(req: MandateAuthorisationRequest): Promise<{ providerCustomerId: string; orderId: string }> {
    const customer = await this.p.call(
      'mandate',
      'customer',
      () =>
        this.rz.customers.create({
          name: req.customer.name,
          email: req.customer.email,
          contact: req.customer.contact,
          fail_existing: 0,
        } as never) as unknown as Promise<RzCustomer>,
    );
    const order = await this.orderFor(req.idempotencyKey, () => ({
      // The authorisation's own payment: the minimum the method takes (an e-mandate registers for nothing).
      // It is never captured, so no money moves outside the ledger: Razorpay releases an uncaptured
      // authorisation by itself (and Mandi's polling never reads this order: it is no flow's payment).
      amount: req.method === 'emandate' ? 0 : 100,
      currency: 'INR',
      customer_id: customer.id,
      method: req.method,
      payment_capture: false,
      token: { max_amount: req.maxAmount, expire_at: Math.floor(req.expireAtMs / 1000), frequency: 'as_presented' },
      notes: { ...req.notes, mandi_purpose: 'mandate_authorisation' },
    }));
    return { providerCustomerId: customer.id, orderId: order.id };
  }

  async tokenOfAuthorisation(orderId: string): Promise<MandateToken | null> {
    const { items } = await this.p.call(
      'mandate',
      `payments of ${orderId}`,
      () => this.rz.orders.fetchPayments(orderId) as unknown as Promise<{ items: RzPayment[] }>,
    );
    const paid = items.find((x) => x.token_id && x.customer_id && (x.status === 'authorized' || x.status === 'captured'));
    return paid ? this.getMandateToken(paid.customer_id!, paid.token_id!) : null;
  }

  async getMandateToken(providerCustomerId: string, tokenId: string): Promise<MandateToken> {
    const t = await this.p.call(
      'mandate',
      `token ${tokenId}`,
      () => this.rz.customers.fetchToken(providerCustomerId, tokenId) as unknown as Promise<RzToken>,
    );
    const status = (t.recurring_details?.status ?? 'initiated') as MandateTokenStatus;
    return {
      tokenId: t.id,
      providerCustomerId,
      method: (t.method === 'card' || t.method === 'emandate' ? t.method : 'upi') as MandateMethod,
      status: TOKEN_STATUSES.includes(status) ? status : 'initiated',
      maxAmount: Number(t.max_amount ?? 0),
    };
  }

  async notifyMandateDebit(req: MandateDebitNoticeRequest): Promise<{ orderId: string; paymentAfterMs: number }> {
    // payment_after is whole seconds: rounded up so the debit is never earlier than asked.
    const paymentAfter = Math.ceil(req.paymentAfterMs / 1000);
    const order = await this.orderFor(req.idempotencyKey, () => ({
      amount: req.amount,
      currency: 'INR',
      payment_capture: true,
      notification: { token_id: req.tokenId, payment_after: paymentAfter },
      notes: { ...req.metadata, mandi_purpose: 'mandate_debit' },
    }));
    return { orderId: order.id, paymentAfterMs: (order.notification?.payment_after ?? paymentAfter) * 1000 };
  }

  async debitMandate(req: MandateDebitRequest): Promise<ProviderPayment> {
    const { items } = await this.p.call(
      'mandate',
      `payments of ${req.orderId}`,
      () => this.rz.orders.fetchPayments(req.orderId) as unknown as Promise<{ items: RzPayment[] }>,
    );
    // Already debited (a retried step): the order's outcome, never a second payment on it.
    if (items.length === 0) {
      const customer = await this.p.call(
        'mandate',
        `customer ${req.providerCustomerId}`,
        () => this.rz.customers.fetch(req.providerCustomerId) as unknown as Promise<RzCustomer>,
      );
      await this.p.call('mandate', `debit ${req.orderId}`, () =>
        this.rz.payments.createRecurringPayment({
          email: customer.email ?? '',
          contact: customer.contact ?? '',
          amount: req.amount,
          currency: 'INR',
          order_id: req.orderId,
          customer_id: req.providerCustomerId,
          token: req.tokenId,
          recurring: '1',
          description: 'Subscription renewal',
          notes: { ...req.metadata, mandi_key: req.idempotencyKey },
        } as never),
      );
    }
    const payment = await this.p.getPayment(req.orderId);
    return { ...payment, paymentMethod: `mandate:${req.tokenId}` };
  }

  /** The order made with this key (found by receipt), or a new one. */
  private async orderFor(key: string, body: () => Record<string, unknown>): Promise<RzOrder> {
    const receipt = receiptFor(key);
    const existing = await this.p.call(
      'mandate',
      `order ${receipt}`,
      () => this.rz.orders.all({ receipt }) as Promise<{ items: RzOrder[] }>,
    );
    const mine = existing.items.find((o) => o.notes?.mandi_key === key);
    if (mine) return mine;
    const b = body();
    return this.p.call(
      'mandate',
      `order ${receipt}`,
      () =>
        this.rz.orders.create({
          ...b,
          receipt,
          notes: { ...(b.notes as Record<string, string>), mandi_key: key },
        } as never) as unknown as Promise<RzOrder>,
    );
  }
}
