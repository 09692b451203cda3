/**
 * Dunning: what a declined renewal does. While retries are left: the renewal row says retrying and
 * the customer is told once. When they run out: a payment-failure pause until the payment method
 * is updated (a paid retry ends it, billing.ts).
 */
import { patched } from '@temporalio/workflow';
import { dunningRetryAt } from '../../domain/subscription';
import { MANDATE_FINAL_ERRORS, noticeKeys } from '../../contracts/subscription';
import type { FlowControl } from '../stuck';
import { isNotSaved, type SubscriptionChanges } from './changes';
import type { SubscriptionEntity } from './entity';
import type { SubscriptionNotices } from './notices';
import { acts, skipStep } from './steps';

const MANDATE_FINAL_PATCH = 'mandate-final-decline';

export interface DunningDeps {
  flow: FlowControl;
  changes: SubscriptionChanges;
  notices: SubscriptionNotices;
  /** Runs after every decline (the row's projection). */
  afterwards: () => Promise<void>;
}

export function createDunning(e: SubscriptionEntity, { flow, changes, notices, afterwards }: DunningDeps) {
  const { st, sub, settings } = e;
  const recordRenewal = (status: 'retrying' | 'payment_failed', error: string, nextRetry: number | null, what: string) => {
    const d = st.dunning!;
    const change = {
      subscriptionId: sub.id,
      period: st.period,
      status,
      attempts: d.attempts,
      lastError: error,
      nextRetryAt: nextRetry === null ? null : new Date(nextRetry).toISOString(),
    };
    return flow.step('record_renewal', () => acts.recordRenewalState(change), skipStep(what));
  };

  /** Retries exhausted: a payment-failure pause until the payment method is updated. */
  const pauseForPayment = async (error: string) => {
    const d = st.dunning!;
    // Abandoned while stuck, the payment-failure pause is not added (deliveries go on unpaid until support acts).
    const pausing =
      d.pauseExceptionId === null
        ? changes.addException('skip', e.earliest(), null, undefined, 'payment_failure', 'system:dunning').catch((err) => {
            if (isNotSaved(err)) return null;
            throw err;
          })
        : null;
    st.billing = 'payment_failed';
    st.billingReason = `renewal declined ${d.attempts} times (${error}); paused until the payment method is updated`;
    const ex = pausing ? await pausing : null;
    if (ex) {
      d.pauseExceptionId = ex.id;
      await notices.notify(
        noticeKeys.paymentMethodRequired(sub.id, st.period),
        'payment_method_required',
        `We could not collect your renewal payment. Deliveries are paused from ${ex.from}; update your payment method to resume.`,
        { pausedFrom: ex.from },
      );
    }
    await recordRenewal('payment_failed', error, null, 'recording the failure on the renewal row');
  };

  const onDeclined = async (error: string) => {
    const d = st.dunning!;
    d.lastError = error;
    // A paused or revoked mandate, or an amount above its limit: no retry of it can succeed, so the
    // subscription asks for a new payment method now (only mandate charges give these codes).
    if ((MANDATE_FINAL_ERRORS as readonly string[]).includes(error) && patched(MANDATE_FINAL_PATCH)) {
      d.nextRetryAtMs = null;
      await pauseForPayment(error);
      await afterwards();
      return;
    }
    const nextRetry = dunningRetryAt(d.firstFailedAtMs, settings.dunningRetryDays, d.retriesDone + 1);
    d.nextRetryAtMs = nextRetry;
    if (nextRetry !== null) {
      st.billing = 'retrying';
      st.billingReason = `renewal declined (${error}); retrying`;
      await recordRenewal('retrying', error, nextRetry, 'recording the retry on the renewal row');
      if (d.attempts === 1) {
        await notices.notify(
          noticeKeys.paymentDeclined(sub.id, st.period),
          'payment_declined',
          `Your renewal payment was declined (${error}). We will retry; you can update your payment method.`,
        );
      }
    } else await pauseForPayment(error);
    await afterwards();
  };

  return { onDeclined };
}
