/**
 * Billing: renew (open the next period and charge it), retry (dunning), and what a paid attempt
 * does (a payment-failure pause ends by itself); the projection of the subscription's row after
 * each of them. A declined attempt is dunning's (dunning.ts).
 */
import { patched } from '@temporalio/workflow';
import type { LocalDate } from '../../domain/schedule';
import { renewalCharge, renewalInstant } from '../../domain/subscription';
import { noticeKeys } from '../../contracts/subscription';
import type { FlowControl } from '../stuck';
import { acts, skipStep } from './steps';
import { ABANDONED_ATTEMPT, FAILS_ATTEMPT, createCharge } from './charge';
import { isNotSaved, type SubscriptionChanges } from './changes';
import type { SubscriptionEntity } from './entity';
import { createDunning } from './dunning';
import type { SubscriptionNotices } from './notices';
import { createMandateStopped, listenForMandateChanges } from './mandate';

/**
 * Renewals priced from the catalog (domain/subscription/pricing.ts#renewalCharge) instead of the
 * quoted `pricePerPeriod`. Gated: a run that opened its renewal before this charges what it opened.
 */
const REPRICING_PATCH = 'renewal-repricing';

export interface BillingDeps {
  flow: FlowControl;
  changes: SubscriptionChanges;
  notices: SubscriptionNotices;
  /** Whether the webhook confirmed a payment (workflows/provider-payment.ts). */
  confirmed: (paymentId: string | null) => boolean;
}

export function createBilling(e: SubscriptionEntity, { flow, changes, notices, confirmed }: BillingDeps) {
  const { st, sub, settings } = e;
  const attemptCharge = createCharge(e, flow, confirmed, notices);
  listenForMandateChanges(e);
  const { onDeclined } = createDunning(e, { flow, changes, notices, afterwards: () => syncRow() });
  /** The renewal date the row shows (undefined: not written by this run yet). */
  let syncedRenewalDate: LocalDate | null | undefined;

  /** Writes the row's projection (billing, next renewal, paid through, credited days). */
  const syncRow = async () => {
    const projection = e.projection();
    await flow.step('sync_subscription', () => acts.syncSubscription(sub.id, projection), skipStep('this update of the subscription row'));
    syncedRenewalDate = projection.nextRenewalDate;
  };

  const onPaid = async () => {
    const wasPaymentFailed = st.dunning?.pauseExceptionId ?? null;
    Object.assign(st, { periodPaid: true, billing: 'paid', billingReason: null, dunning: null });
    if (wasPaymentFailed) {
      // Payment succeeded: the payment-failure pause ends by itself, nothing for support to do.
      const from = e.earliest();
      const pause = st.exceptions.filter(
        (x) => x.type === 'skip' && x.reason === 'payment_failure' && (x.endedAt == null || x.endedAt > from),
      );
      // Abandoned while stuck: the pause stays and support resumes it by hand.
      const ended = await changes.endExceptions(pause, from).catch((err) => {
        if (isNotSaved(err)) return null;
        throw err;
      });
      if (ended)
        await notices.notify(
          noticeKeys.paymentRecovered(sub.id, st.period),
          'payment_recovered',
          `Payment received. Deliveries resume on ${from}.`,
          {
            from,
          },
        );
    }
    await syncRow();
  };

  /**
   * The next period's charge under the re-pricing rule (pricing.ts): the units the schedule
   * delivers in it now, plus what the period before delivers beyond (or short of) what it was
   * charged for, so a quantity change or an extra made after a charge is billed with the next one.
   * Null: the quote is charged (a subscription priced before the catalog, or a run that renewed
   * before re-pricing existed).
   */
  const repricedCharge = (start: LocalDate) => {
    const unitPrice = sub.unitPrice;
    if (typeof unitPrice !== 'number' || unitPrice <= 0 || !patched(REPRICING_PATCH)) return null;
    // A period charged before re-pricing paid for the quote: quantity × deliveries per period units.
    const chargedUnits = st.periodUnits ?? Math.round(sub.pricePerPeriod / unitPrice);
    const previous = st.period > 0 && st.periodStart !== null ? { start: st.periodStart, chargedUnits } : null;
    return renewalCharge({
      sub: e.scheduleSub(),
      exceptions: st.exceptions,
      unitPrice,
      billingPeriod: settings.billingPeriod,
      start,
      previous,
    });
  };

  /** Starts the next period and makes its first charge attempt. */
  const renew = async () => {
    const next = e.nextPeriod();
    const priced = repricedCharge(next.start);
    st.creditedDaysTotal += next.creditedDays;
    st.period += 1;
    st.periodStart = next.start;
    st.periodPaid = false;
    st.periodAmount = priced ? priced.amount : sub.pricePerPeriod;
    st.periodUnits = priced ? priced.units : undefined;
    if (st.periodAmount === 0) {
      // Nothing to deliver in this period beyond what was already paid for (a skipped period, or a
      // credit for the last one at least as large): nothing is owed, so there is no renewal row
      // (its amount must be positive), no charge and no journal; the period counts as paid and the
      // next renewal prices from it (its units: none, or what this one delivers). A credit larger
      // than this period's units is not carried further (pricing.ts).
      return onPaid();
    }
    const renewal = { subscriptionId: sub.id, period: st.period, periodStart: next.start, amount: st.periodAmount };
    const opened = await flow.step(
      'open_renewal',
      async () => {
        await acts.openRenewal(renewal);
        return true;
      },
      { abandon: { meaning: FAILS_ATTEMPT, run: () => false } },
    );
    const result = opened ? await attemptCharge(1) : { paid: false as const, error: ABANDONED_ATTEMPT };
    if (result.paid) return onPaid();
    st.dunning = {
      period: st.period,
      attempts: 1,
      retriesDone: 0,
      firstFailedAtMs: e.now(),
      nextRetryAtMs: null,
      lastError: result.error,
      pauseExceptionId: null,
    };
    await onDeclined(result.error);
  };

  const retry = async (scheduled: boolean) => {
    const d = st.dunning!;
    d.attempts += 1;
    if (scheduled) d.retriesDone += 1;
    const result = await attemptCharge(d.attempts);
    if (result.paid) return onPaid();
    await onDeclined(result.error);
  };

  /**
   * Charges what is due now — a dunning retry, or the next period's renewal — and says whether the
   * period is now paid (`declined`: try again at once, the state moved on) and when the next charge is due.
   */
  const onMandateStopped = createMandateStopped(e, { notices, onDeclined });

  const chargeDue = async (): Promise<{ outcome: 'paid' | 'declined' | 'none'; nextAt: number }> => {
    if (st.mandateBlocked && (await onMandateStopped())) return { outcome: 'declined', nextAt: Infinity };
    const t = e.now();
    if (st.dunning) {
      const due = st.dunning.nextRetryAtMs;
      if (!e.retryNow && (due === null || t < due)) return { outcome: 'none', nextAt: due ?? Infinity };
      const scheduled = !e.retryNow && due !== null;
      e.retryNow = false;
      await retry(scheduled);
      return { outcome: st.dunning !== null ? 'declined' : 'paid', nextAt: Infinity };
    }
    const np = e.nextPeriod();
    if (sub.endDate !== null && np.start > sub.endDate) return { outcome: 'none', nextAt: Infinity };
    // The first period is charged when the customer subscribes; later ones the day before they start.
    const at = st.period === 0 ? t : renewalInstant(np.start, e.tz, settings.renewalTime);
    if (t < at) return { outcome: 'none', nextAt: at };
    await renew();
    return { outcome: st.periodPaid ? 'paid' : 'declined', nextAt: Infinity };
  };

  /** A pause or an early resume moves the next renewal: keep the row in step with it. */
  const keepRowInStep = async () => {
    if (patched('sync-renewal-date-on-change') && syncedRenewalDate !== e.renewalDate()) await syncRow();
  };

  return { syncRow, chargeDue, keepRowInStep };
}
