/**
 * The bank-payout provider (NEFT/IMPS rails behind an API) as Mandi sees it. The real one is outside
 * our walls; `FakePayoutProvider` stands in for its sandbox.
 *
 * The contract that keeps money safe: the same idempotency key always means the same payout, so a
 * payout whose outcome is unknown (timeout, 5xx) is retried with THE SAME key and can never be sent
 * twice. `pending` means the bank has it and has not answered yet; only `succeeded` or `failed` are
 * final.
 */
export type ProviderPayoutStatus = 'pending' | 'succeeded' | 'failed';

export interface ProviderPayout {
  id: string;
  status: ProviderPayoutStatus;
  amount: number;
  bankAccount: string;
  /** Why the bank rejected it, when `failed`. */
  failureCode?: string;
  /** The provider's own state word (RazorpayX: queued, processing, processed, reversed…), when it has one. */
  providerState?: string;
  /** The bank's reference (UTR) once paid. */
  utr?: string;
}

export interface CreatePayoutRequest {
  idempotencyKey: string;
  amount: number;
  bankAccount: string;
}

export interface PayoutProvider {
  createPayout(req: CreatePayoutRequest): Promise<ProviderPayout>;
  getPayout(payoutId: string): Promise<ProviderPayout>;
}

/** The provider could not be reached or did not answer: the payout may or may not exist. Retry with the same key. */
export class PayoutProviderUnavailableError extends Error {}
