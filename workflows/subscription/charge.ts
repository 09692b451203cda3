/**
 * One charge attempt for the current period: the wallet first, then the payment method, whose
 * payment is awaited the shared way (workflows/provider-payment.ts: the webhook's confirmation, or
 * a poll). Every outcome is an answer: paid, or not paid with the error dunning records.
 */
import { ActivityFailure, ApplicationFailure, condition, patched, sleep } from '@temporalio/workflow';
import type { ProviderPayment } from '../../infra/payment-provider';
import { awaitProviderPayment } from '../provider-payment';
import { isAbandoned, type FlowControl } from '../stuck';
import { acts } from './steps';
import type { SubscriptionEntity } from './entity';
import { isMandatePaymentMethod } from '../../contracts/subscription';
import { createMandateCharge } from './mandate';
import type { SubscriptionNotices } from './notices';

const PAYMENT_POLL_MS = 1_000;
/** Abandoning a stuck charge step counts as a failed attempt with this error; dunning takes over. */
export const ABANDONED_ATTEMPT = 'abandoned_by_support';
export const FAILS_ATTEMPT = 'counts this charge attempt as failed; dunning takes over';

/**
 * Runs started before this waited for a pending payment in a loop of their own (which polled again
 * after a webhook confirmation); they keep it (`legacyWait`). Newer runs trust the confirmation.
 */
const SHARED_WAIT_PATCH = 'renewal-shared-payment-wait';

/** A payment method that is a mandate is charged the recurring-debit way (mandate.ts): notice, wait, one debit. */
export const MANDATE_DEBIT_PATCH = 'subscription-mandate-debits';

export type ChargeOutcome = { paid: true } | { paid: false; error: string };

export function createCharge(
  e: SubscriptionEntity,
  flow: FlowControl,
  confirmed: (paymentId: string | null) => boolean,
  notices?: SubscriptionNotices,
) {
  const { st, sub } = e;
  const failsAttempt = flow.giveUp<never>(FAILS_ATTEMPT);
  const poll = (id: string) => flow.step('poll_payment', () => acts.getRenewalPayment(id), failsAttempt);

  /** The wait of runs started before the shared helper (kept so they replay). */
  const legacyWait = async (first: ProviderPayment): Promise<ProviderPayment> => {
    let payment = first;
    let polledSinceConfirmation = false;
    while (payment.status === 'processing') {
      const id = payment.id;
      // A webhook can confirm a payment the provider still reports as processing: poll at once
      // the first time, then at the usual pace rather than in a tight loop.
      if (polledSinceConfirmation && patched('paced-poll-after-confirmation')) await sleep(PAYMENT_POLL_MS);
      else await condition(() => confirmed(id), PAYMENT_POLL_MS);
      polledSinceConfirmation = confirmed(id);
      payment = await poll(id);
    }
    return payment;
  };

  const providerOutcome = async (payment: ProviderPayment): Promise<'succeeded' | 'failed'> => {
    if (payment.status !== 'processing') return payment.status;
    if (!patched(SHARED_WAIT_PATCH)) return (await legacyWait(payment)).status === 'failed' ? 'failed' : 'succeeded';
    // The renewal's pace: a poll a second (the webhook usually comes first).
    return awaitProviderPayment({
      confirmed: () => confirmed(payment.id),
      poll: async () => (await poll(payment.id)).status,
      firstPollMs: PAYMENT_POLL_MS,
      maxPollMs: PAYMENT_POLL_MS,
    });
  };

  const chargeMandate = notices ? createMandateCharge(e, { flow, notices, failsAttempt, providerOutcome }) : null;

  return async function attemptCharge(attempt: number): Promise<ChargeOutcome> {
    const charge = { subscriptionId: sub.id, customerId: sub.customerId, period: st.period, attempt, amount: e.periodAmount() };
    try {
      const wallet = await flow.step('charge_wallet', () => acts.chargeRenewalFromWallet(charge), failsAttempt);
      if (wallet.outcome === 'paid') return { paid: true };
      const paymentMethod = st.paymentMethod;
      // Runs before mandates never meet one (their payment methods are pm_ tokens of cards), so the gate only marks new runs.
      if (chargeMandate && isMandatePaymentMethod(paymentMethod) && patched(MANDATE_DEBIT_PATCH)) {
        return await chargeMandate({ ...charge, paymentMethod });
      }
      const payment = await flow.step('charge_provider', () => acts.chargeRenewalViaProvider({ ...charge, paymentMethod }), failsAttempt);
      if ((await providerOutcome(payment)) === 'failed') return { paid: false, error: 'payment_failed' };
      const paymentId = payment.id;
      await flow.step('settle_payment', () => acts.settleRenewalViaProvider({ ...charge, paymentId }), failsAttempt);
      return { paid: true };
    } catch (err) {
      if (isAbandoned(err)) return { paid: false, error: ABANDONED_ATTEMPT };
      const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : null;
      if (failure?.type === 'PaymentDeclined') {
        return { paid: false, error: String((failure.details?.[0] as { code?: string })?.code ?? 'declined') };
      }
      throw err;
    }
  };
}
