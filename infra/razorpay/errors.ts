/**
 * Razorpay's answers mapped to Mandi's three outcomes, in ONE table (README "Going live with
 * Razorpay" repeats it). The SDK rejects with `{ statusCode, error: { code, description, reason } }`
 * (dist/api.js#normalizeError); a request that never got an answer (timeout, refused connection)
 * rejects with the transport's own error, or a TypeError from the SDK reading `err.response.status`.
 */
import { PaymentDeclinedError, ProviderUnavailableError, RefundRejectedError } from '../payment-provider';

export interface RazorpayErrorBody {
  statusCode?: number;
  error?: { code?: string; description?: string; reason?: string; source?: string; step?: string; field?: string };
}

export type Outcome =
  | 'declined:insufficient_funds'
  | 'declined:card_declined'
  | 'declined:mandate_inactive'
  | 'declined:amount_above_mandate_limit'
  | 'declined:debit_before_notice'
  | 'refund_rejected'
  | 'unavailable';

export type Operation = 'payment' | 'refund' | 'mandate';

/**
 * | HTTP / code                                      | reason                                   | Mandi                         |
 * |--------------------------------------------------|------------------------------------------|-------------------------------|
 * | no answer (timeout, connection refused)          | —                                        | ProviderUnavailableError      |
 * | 5xx, `SERVER_ERROR`, `GATEWAY_ERROR`             | any                                      | ProviderUnavailableError      |
 * | 429 (rate limited), 409 (same key in progress)   | any                                      | ProviderUnavailableError      |
 * | 401 `BAD_REQUEST_ERROR` (wrong keys)             | authentication_failed                    | ProviderUnavailableError (ops must fix the keys; retrying the same key is safe) |
 * | 400 `BAD_REQUEST_ERROR` on a refund              | amount more than captured / fully refunded | RefundRejectedError         |
 * | 400 `BAD_REQUEST_ERROR`                          | insufficient_funds, insufficient_balance | PaymentDeclinedError(insufficient_funds) |
 * | 400 `BAD_REQUEST_ERROR` on a mandate call       | token not confirmed (paused, cancelled, expired, rejected) | PaymentDeclinedError(mandate_inactive) |
 * | 400 `BAD_REQUEST_ERROR` on a mandate call       | amount above the token's max_amount      | PaymentDeclinedError(amount_above_mandate_limit) |
 * | 400 `BAD_REQUEST_ERROR` on a mandate call       | before the notice's payment_after        | PaymentDeclinedError(debit_before_notice) |
 * | 400 `BAD_REQUEST_ERROR`                          | anything else (payment_declined, card_declined, input_validation_failed…) | PaymentDeclinedError(card_declined) |
 */
export function classify(err: unknown, op: Operation): Outcome {
  const body = err as RazorpayErrorBody;
  const status = typeof body?.statusCode === 'number' ? body.statusCode : null;
  const code = body?.error?.code ?? '';
  const reason = (body?.error?.reason ?? '').toLowerCase();
  if (status === null) return 'unavailable';
  if (status >= 500 || code === 'SERVER_ERROR' || code === 'GATEWAY_ERROR') return 'unavailable';
  if (status === 429 || status === 409 || status === 401) return 'unavailable';
  if (op === 'refund') return 'refund_rejected';
  if (reason.includes('insufficient')) return 'declined:insufficient_funds';
  if (op === 'mandate') {
    const said = `${reason} ${(body?.error?.description ?? '').toLowerCase()}`;
    if (said.includes('max_amount') || said.includes('maximum amount')) return 'declined:amount_above_mandate_limit';
    if (said.includes('payment_after') || said.includes('pre-debit') || said.includes('pre_debit')) return 'declined:debit_before_notice';
    if (said.includes('token') || said.includes('mandate')) return 'declined:mandate_inactive';
  }
  return 'declined:card_declined';
}

/** Rethrows a Razorpay failure as the error Mandi's activities understand. */
export function toMandiError(err: unknown, op: Operation, what: string): Error {
  const outcome = classify(err, op);
  const body = err as RazorpayErrorBody;
  const said = body?.error?.description ?? (err instanceof Error ? err.message : String(err));
  switch (outcome) {
    case 'declined:insufficient_funds':
      return new PaymentDeclinedError('insufficient_funds', `${what}: ${said}`);
    case 'declined:card_declined':
      return new PaymentDeclinedError('card_declined', `${what}: ${said}`);
    case 'declined:mandate_inactive':
      return new PaymentDeclinedError('mandate_inactive', `${what}: ${said}`);
    case 'declined:amount_above_mandate_limit':
      return new PaymentDeclinedError('amount_above_mandate_limit', `${what}: ${said}`);
    case 'declined:debit_before_notice':
      return new PaymentDeclinedError('debit_before_notice', `${what}: ${said}`);
    case 'refund_rejected':
      return new RefundRejectedError(`${what}: ${said}`);
    default:
      return new ProviderUnavailableError(`${what}: Razorpay unavailable (${body?.statusCode ?? 'no answer'}): ${said}`);
  }
}
