/**
 * Recurring debits against a mandate (UPI Autopay, card e-mandate), India's rules:
 *   - every charge attempt sends the pre-debit notification first and debits no earlier than
 *     PRE_DEBIT_NOTICE_MS (24 h on the subscription clock, and the provider's own `payment_after`)
 *     after it — the first attempt of a renewal and every dunning retry alike;
 *   - one debit per cycle: the attempt's debit is one provider call keyed by the attempt, and the
 *     database refuses a second attempt of a period while one is debiting or paid (db/mandates.ts);
 *   - a mandate the customer paused or revoked (token.paused / token.cancelled, the
 *     `mandateStatusChanged` signal) is never debited again: the attempt fails with
 *     `mandate_paused` / `mandate_cancelled` and dunning asks for a new payment method at once;
 *   - an amount above the mandate's limit is refused before anything is sent (activities).
 */
import { condition, patched, setHandler, sleep } from '@temporalio/workflow';
import {
  PRE_DEBIT_NOTICE_MS,
  isMandatePaymentMethod,
  mandateNoticeKeys,
  mandateStatusSignal,
  type MandateStatusChange,
} from '../../contracts/subscription';
import type { ProviderPayment } from '../../infra/payment-provider';
import type { FlowControl, StepOptions } from '../stuck';
import type { SubscriptionEntity } from './entity';
import type { SubscriptionNotices } from './notices';
import { acts } from './steps';

export interface MandateChargeDeps {
  flow: FlowControl;
  notices: SubscriptionNotices;
  /** What abandoning a stuck step of the attempt means (the attempt fails; dunning takes over). */
  failsAttempt: StepOptions<never>;
  /** The provider's outcome of a payment: the webhook's confirmation, or a poll. */
  providerOutcome: (payment: ProviderPayment) => Promise<'succeeded' | 'failed'>;
}

type Attempt = { subscriptionId: string; customerId: string; period: number; attempt: number; amount: number; paymentMethod: string };

/** A mandate paused or revoked by the customer pauses a renewal in dunning at once, or asks for a new method. */
const MANDATE_STOPPED_PATCH = 'mandate-stopped';

const rupees = (paise: number) => `₹${(paise / 100).toFixed(2)}`;

/** The mandate the subscription charges now has been paused or revoked: its status, else null. */
export function mandateStopped(e: SubscriptionEntity): MandateStatusChange['status'] | null {
  const b = e.st.mandateBlocked;
  return b && b.paymentMethod === e.st.paymentMethod ? b.status : null;
}

/** Listens for token webhooks passed on by the API (api/routes/webhooks.ts). */
export function listenForMandateChanges(e: SubscriptionEntity): void {
  setHandler(mandateStatusSignal, (c) => {
    if (!c || !isMandatePaymentMethod(c.paymentMethod) || (c.status !== 'paused' && c.status !== 'cancelled')) return;
    // Only the mandate it charges matters; a cancelled one stays cancelled.
    if (c.paymentMethod !== e.st.paymentMethod || mandateStopped(e) === 'cancelled') return;
    e.st.mandateBlocked = { paymentMethod: c.paymentMethod, status: c.status };
    e.changed = true;
  });
}

export function createMandateCharge(e: SubscriptionEntity, { flow, notices, failsAttempt, providerOutcome }: MandateChargeDeps) {
  const { sub } = e;

  return async function chargeMandate(c: Attempt): Promise<{ paid: true } | { paid: false; error: string }> {
    const stopped = mandateStopped(e);
    if (stopped) return { paid: false, error: `mandate_${stopped}` };
    // The notice period on the subscription clock, and the same instant in real time for the provider.
    const debitAtSim = e.now() + PRE_DEBIT_NOTICE_MS;
    const noticeMs = e.delayUntil(debitAtSim);
    const notice = await flow.step(
      'notice_mandate_debit',
      () => acts.noticeMandateDebit({ ...c, paymentAfterMs: Date.now() + noticeMs, noticeMs }),
      failsAttempt,
    );
    await notices.notify(
      mandateNoticeKeys.preDebit(sub.id, c.period, c.attempt),
      'pre_debit_notice',
      `${rupees(c.amount)} for your subscription will be debited from your mandate on or after ${new Date(Date.now() + noticeMs).toISOString()}.`,
      {
        amount: c.amount,
        period: c.period,
        attempt: c.attempt,
        orderId: notice.orderId,
        debitAfter: new Date(notice.paymentAfterMs).toISOString(),
      },
    );
    // Wait out the notice (the later of the subscription clock's 24 h and the provider's payment_after);
    // a pause or revocation meanwhile stops the debit.
    const waitMs = Math.max(noticeMs, notice.paymentAfterMs - Date.now(), 0);
    if (await condition(() => mandateStopped(e) !== null, waitMs)) return { paid: false, error: `mandate_${mandateStopped(e)}` };
    // (A clock that runs slower than the timer, never in practice: wait for it too.)
    while (e.delayUntil(debitAtSim) > 0) await sleep(e.delayUntil(debitAtSim));

    const payment = await flow.step('debit_mandate', () => acts.debitMandate({ ...c, orderId: notice.orderId }), failsAttempt);
    if ((await providerOutcome(payment)) === 'failed') {
      await flow.step('record_mandate_debit', () => acts.recordMandateDebitFailed({ ...c, errorCode: 'payment_failed' }), failsAttempt);
      return { paid: false, error: 'payment_failed' };
    }
    const paymentId = payment.id;
    await flow.step('settle_payment', () => acts.settleRenewalViaProvider({ ...c, paymentId }), failsAttempt);
    return { paid: true };
  };
}

/**
 * The customer paused or revoked the mandate the subscription charges: while a renewal is unpaid
 * (dunning) the payment-failure pause starts now; in a paid period they are asked for a new payment
 * method at once, and the next renewal pauses unless one arrives. True when the state moved on.
 */
export function createMandateStopped(
  e: SubscriptionEntity,
  { notices, onDeclined }: { notices: SubscriptionNotices; onDeclined: (error: string) => Promise<void> },
) {
  const { st, sub } = e;
  return async (): Promise<boolean> => {
    const stopped = mandateStopped(e);
    if (!stopped || !patched(MANDATE_STOPPED_PATCH)) return false;
    if (st.dunning) {
      if (st.billing === 'payment_failed') return false;
      await onDeclined(`mandate_${stopped}`);
      return true;
    }
    await notices.notify(
      mandateNoticeKeys.mandateStopped(sub.id, st.paymentMethod),
      'payment_method_required',
      `Your recurring-payment mandate was ${stopped}. Add a payment method to keep your deliveries coming after ${e.renewalDate()}.`,
      { mandate: st.paymentMethod, status: stopped },
    );
    return false;
  };
}
