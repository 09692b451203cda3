/**
 * The payment service provider (PSP) as the rest of Mandi sees it. The real one is outside our
 * walls; `FakePaymentProvider` stands in for its sandbox.
 */
export type ProviderPaymentStatus = 'processing' | 'succeeded' | 'failed';

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
  /** Echoed back in webhooks; we put the workflow id here so the webhook can signal it. */
  metadata?: Record<string, string>;
}

export interface PaymentProvider {
  createPayment(req: CreatePaymentRequest): Promise<ProviderPayment>;
  getPayment(paymentId: string): Promise<ProviderPayment>;
  refundPayment(req: { idempotencyKey: string; paymentId: string; amount: number }): Promise<{ id: string }>;
}

/** The provider said no for good: retrying with the same method will not help. */
export class PaymentDeclinedError extends Error {
  constructor(readonly code: 'card_declined' | 'insufficient_funds', message: string) {
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
  type: 'payment.succeeded' | 'payment.failed';
  paymentId: string;
  amount: number;
  metadata: Record<string, string>;
}
