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
}

/** The provider said no for good: retrying with the same method will not help. */
export class PaymentDeclinedError extends Error {
  constructor(
    readonly code: 'card_declined' | 'insufficient_funds',
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
