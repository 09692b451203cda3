/**
 * RazorpayX as Mandi's PayoutProvider. RazorpayX's Payouts API is not in the `razorpay` Node SDK,
 * so it is called over plain `fetch` (Node's built-in HTTP client, no extra dependency) with the
 * same Basic auth the SDK uses. The seller's bank account reference is the RazorpayX fund account id.
 *
 * `X-Payout-Idempotency` = our payout key: a retry after a timeout gets back the payout already made,
 * never a second one. States: queued, pending, processing → pending (money stays in flight);
 * processed → succeeded (with the UTR); reversed, cancelled, rejected, failed → failed (the money
 * did not leave, or came back).
 */
import { PayoutProviderUnavailableError, type CreatePayoutRequest, type PayoutProvider, type ProviderPayout } from '../payout-provider';

export interface RazorpayXOptions {
  keyId: string;
  keySecret: string;
  apiUrl: string;
  timeoutMs: number;
  /** The RazorpayX account payouts are sent from. */
  accountNumber: string;
}

export type RazorpayXPayoutState = 'queued' | 'pending' | 'processing' | 'processed' | 'reversed' | 'cancelled' | 'rejected' | 'failed';

export interface RazorpayXPayout {
  id: string;
  amount: number;
  fund_account_id: string;
  status: RazorpayXPayoutState;
  utr?: string | null;
  reference_id?: string | null;
  failure_reason?: string | null;
  status_details?: { reason?: string | null; description?: string | null } | null;
}

/** RazorpayX's payout state in Mandi's terms (README "Going live with Razorpay"). */
export function payoutStatusOf(state: RazorpayXPayoutState): ProviderPayout['status'] {
  switch (state) {
    case 'processed':
      return 'succeeded';
    case 'reversed':
    case 'cancelled':
    case 'rejected':
    case 'failed':
      return 'failed';
    default:
      return 'pending';
  }
}

export function viewPayout(p: RazorpayXPayout): ProviderPayout {
  const status = payoutStatusOf(p.status);
  return {
    id: p.id,
    status,
    amount: p.amount,
    bankAccount: p.fund_account_id,
    providerState: p.status,
    ...(p.utr ? { utr: p.utr } : {}),
    ...(status === 'failed' ? { failureCode: p.status_details?.reason ?? p.status } : {}),
  };
}

export class RazorpayXPayoutProvider implements PayoutProvider {
  constructor(private readonly o: RazorpayXOptions) {}

  async createPayout(req: CreatePayoutRequest): Promise<ProviderPayout> {
    if (!Number.isSafeInteger(req.amount) || req.amount <= 0) throw new RangeError('payout amount must be positive paise');
    const body = {
      account_number: this.o.accountNumber,
      fund_account_id: req.bankAccount,
      amount: req.amount,
      currency: 'INR',
      mode: 'IMPS',
      purpose: 'payout',
      // Held by RazorpayX until the balance covers it, rather than rejected: it stays "pending" for us.
      queue_if_low_balance: true,
      reference_id: req.idempotencyKey.slice(0, 40),
      notes: { mandi_key: req.idempotencyKey },
    };
    return viewPayout(await this.request('POST', '/v1/payouts', body, { 'X-Payout-Idempotency': req.idempotencyKey }));
  }

  async getPayout(payoutId: string): Promise<ProviderPayout> {
    return viewPayout(await this.request('GET', `/v1/payouts/${encodeURIComponent(payoutId)}`));
  }

  /**
   * Any answer but a 2xx with a payout is "unknown" to the workflow: it asks again with the same key,
   * and never releases the money on a guess. A 4xx is a configuration or data problem ops must see;
   * it is reported the same way so the payout waits rather than failing with the money in limbo.
   */
  private async request(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<RazorpayXPayout> {
    const auth = Buffer.from(`${this.o.keyId}:${this.o.keySecret}`).toString('base64');
    let res: Response;
    try {
      res = await fetch(new URL(path, this.o.apiUrl), {
        method,
        headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch (err) {
      throw new PayoutProviderUnavailableError(`RazorpayX ${method} ${path}: no answer (${String(err)})`);
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // a gateway's HTML error page: handled as no usable answer below
    }
    if (!res.ok || !json || typeof (json as RazorpayXPayout).id !== 'string') {
      const e = (json as { error?: { code?: string; description?: string } } | null)?.error;
      throw new PayoutProviderUnavailableError(
        `RazorpayX ${method} ${path}: ${res.status} ${e?.code ?? ''} ${e?.description ?? ''}`.trim(),
      );
    }
    return json as RazorpayXPayout;
  }
}
