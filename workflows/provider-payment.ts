/**
 * Waiting for a provider payment, the same way in every flow (top-up, checkout, subscription
 * renewals): the signed webhook usually says the payment settled first (paymentConfirmedSignal);
 * polling the provider — every `firstPollMs`, doubling up to `maxPollMs` — covers a lost webhook
 * and is the only way to learn of a failure.
 */
import { condition, setHandler } from '@temporalio/workflow';
import { paymentConfirmedSignal, type ProviderPaymentStatus } from '../contracts/provider-payment';

/** Starts listening for webhook confirmations; returns whether a given payment was confirmed. */
export function listenForPaymentConfirmations(): (paymentId: string | null) => boolean {
  const confirmed = new Set<string>();
  setHandler(paymentConfirmedSignal, ({ paymentId }) => {
    confirmed.add(paymentId);
  });
  return (paymentId) => paymentId !== null && confirmed.has(paymentId);
}

export interface ProviderPaymentWait {
  /** The webhook confirmed this payment. */
  confirmed: () => boolean;
  /** Ask the provider (an activity, or a flow step around one). */
  poll: () => Promise<ProviderPaymentStatus>;
  firstPollMs: number;
  maxPollMs: number;
  /** Set by support's `pollNow`: ask at once; that poll leaves the backoff where it was. */
  pollNow?: { requested: boolean };
}

/** Resolves once the payment succeeded (webhook or poll) or the provider reports it failed. */
export async function awaitProviderPayment(wait: ProviderPaymentWait): Promise<'succeeded' | 'failed'> {
  const asked = wait.pollNow;
  let pollEvery = wait.firstPollMs;
  for (;;) {
    // A timeout polls, even when the webhook landed in the same activation (as recorded histories did).
    const woke = await condition(() => wait.confirmed() || asked?.requested === true, pollEvery);
    if (woke && wait.confirmed()) return 'succeeded';
    const early = asked?.requested === true;
    if (asked) asked.requested = false;
    const status = await wait.poll();
    if (status !== 'processing') return status;
    if (!early) pollEvery = Math.min(pollEvery * 2, wait.maxPollMs);
  }
}
