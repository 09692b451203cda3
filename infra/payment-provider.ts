import { createHmac } from 'node:crypto';

/**
 * The payment service provider (PSP) as the rest of Mandi sees it. The real one is outside our
 * walls; `FakePaymentProvider` stands in for its sandbox.
 */
import type { ProviderPaymentStatus } from '../contracts/provider-payment';

export type { ProviderPaymentStatus };

export interface ProviderPayment {
  id: string;
  status: ProviderPaymentStatus;
  amount: number;
  paymentMethod: string;
}

export interface CreatePaymentRequest {
  /** The same key always means the same payment: the provider never charges twice for it. */
  idempotencyKey: string;
  amount: number;
  paymentMethod: string;
  /**
   * Echoed back in webhooks, for people reading the provider's dashboard. The webhook never
   * routes by it: it finds the flow from our own record of the payment id.
   */
  metadata?: Record<string, string>;
}

export interface PaymentProvider {
  createPayment(req: CreatePaymentRequest): Promise<ProviderPayment>;
  getPayment(paymentId: string): Promise<ProviderPayment>;
  refundPayment(req: { idempotencyKey: string; paymentId: string; amount: number }): Promise<{ id: string }>;
  /** Recurring debits (UPI Autopay, card e-mandates); absent: this provider takes no mandates. */
  readonly mandates?: MandateRails;
}

// --- recurring debits (mandates) ------------------------------------------------------------------

/** A mandate token's state at the provider (Razorpay's token states; only `confirmed` can be debited). */
export type MandateTokenStatus = 'initiated' | 'confirmed' | 'paused' | 'cancellation_initiated' | 'cancelled' | 'rejected' | 'expired';
export type MandateMethod = 'upi' | 'card' | 'emandate';

export interface MandateToken {
  tokenId: string;
  providerCustomerId: string;
  method: MandateMethod;
  status: MandateTokenStatus;
  /** The most one debit may take (paise): the limit the customer approved. */
  maxAmount: number;
}

export interface MandateAuthorisationRequest {
  /** One authorisation per key (the provider order's receipt). */
  idempotencyKey: string;
  customer: { name: string; email: string; contact: string };
  method: MandateMethod;
  maxAmount: number;
  /** When the mandate ends (ms since the epoch). */
  expireAtMs: number;
  notes?: Record<string, string>;
}

export interface MandateDebitNoticeRequest {
  /** One notice (one provider order) per key: a retried step never notifies twice. */
  idempotencyKey: string;
  providerCustomerId: string;
  tokenId: string;
  amount: number;
  /** The earliest instant the debit may run (ms since the epoch): at least 24 h after the notice. */
  paymentAfterMs: number;
  metadata?: Record<string, string>;
}

export interface MandateDebitRequest {
  idempotencyKey: string;
  /** The order the pre-debit notice was sent for. */
  orderId: string;
  providerCustomerId: string;
  tokenId: string;
  amount: number;
  metadata?: Record<string, string>;
}

/**
 * The decoupled recurring-debit flow (Razorpay "subsequent payments" with a `notification` object):
 * the customer authorises a mandate once (a customer and a token with a limit); each debit is an
 * order carrying the pre-debit notification, then — no earlier than its `payment_after` — one
 * recurring payment on that order. The provider schedules no retries of its own in this flow: the
 * subscription's dunning retries, each with its own notice.
 */
export interface MandateRails {
  createMandateAuthorisation(req: MandateAuthorisationRequest): Promise<{ providerCustomerId: string; orderId: string }>;
  /** The token the customer's authorisation payment on `orderId` created; null while not paid yet. */
  tokenOfAuthorisation(orderId: string): Promise<MandateToken | null>;
  getMandateToken(providerCustomerId: string, tokenId: string): Promise<MandateToken>;
  /** Sends the pre-debit notification (creates the debit's order); the same key returns the same order. */
  notifyMandateDebit(req: MandateDebitNoticeRequest): Promise<{ orderId: string; paymentAfterMs: number }>;
  /** Debits the token once on the noticed order; a repeat returns the payment already made. The id is the order's. */
  debitMandate(req: MandateDebitRequest): Promise<ProviderPayment>;
}

/** The provider said no for good: retrying with the same method will not help. */
export class PaymentDeclinedError extends Error {
  constructor(
    readonly code: 'card_declined' | 'insufficient_funds' | 'mandate_inactive' | 'amount_above_mandate_limit' | 'debit_before_notice',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The provider refused a refund for more than the payment has left. Our ledger caps refunds at
 * what was paid, so this means the two disagree: the step keeps failing, visibly, until ops look.
 */
export class RefundRejectedError extends Error {}

/** The provider could not be reached or answered 5xx: safe to retry with the same key. */
export class ProviderUnavailableError extends Error {}

export interface WebhookEvent {
  /** Stable per (payment, type): the provider's retries of one event carry the same id. */
  id: string;
  type: 'payment.succeeded' | 'payment.failed';
  paymentId: string;
  amount: number;
  metadata: Record<string, string>;
}

/** The header a webhook's signature travels in: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const WEBHOOK_SIGNATURE_HEADER = 'x-provider-signature';

/**
 * The provider's signature scheme (Stripe/Razorpay style): an HMAC over the timestamp and the
 * raw body together, so a captured event cannot be replayed later with a fresh timestamp.
 */
export function webhookHmac(secret: string, timestampSeconds: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.`).update(body).digest('hex');
}
