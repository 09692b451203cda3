/**
 * One subscription as its workflow holds it: the record it was started with, its settings, the
 * state it carries from run to run, and everything derived from them (the clock, the next period,
 * the last day, its FlowStatus and why, the view the `state` query answers and the projection
 * written to its Postgres row). No I/O here: changes and billing act on it (changes.ts, billing.ts).
 */
import { addDays, localDateOf, wouldDeliver, type LocalDate, type ScheduleSubscription } from '../../domain/schedule';
import {
  DEFAULT_SUBSCRIPTION_SETTINGS,
  earliestChangeableDate,
  explainStatus,
  flowStatusOf,
  periodEndWithCredit,
  realDelayUntil,
  simNow,
  type StatusFacts,
  type SubscriptionRecord,
  type SubscriptionSettings,
} from '../../domain/subscription';
import type {
  SubscriptionProjection,
  SubscriptionRunState,
  SubscriptionStateView,
  SubscriptionWorkflowInput,
} from '../../contracts/subscription';

export class SubscriptionEntity {
  readonly sub: SubscriptionRecord;
  readonly settings: SubscriptionSettings;
  readonly st: SubscriptionRunState;
  /** A change arrived: the main loop wakes up and looks again. */
  changed = false;
  /** The payment method changed while dunning: retry the charge now. */
  retryNow = false;
  /** The last signal that was ignored as invalid, for support. */
  lastRejected: SubscriptionStateView['lastRejected'] = null;
  /** Projections made by this run (their order among the row's writes, with the time). */
  private projectionsWritten = 0;

  constructor(input: SubscriptionWorkflowInput) {
    this.sub = input.subscription;
    this.settings = { ...DEFAULT_SUBSCRIPTION_SETTINGS, ...input.settings };
    this.st = input.carried ?? {
      clockAnchor: { realMs: Date.now(), simMs: this.settings.simStartMs ?? Date.now() },
      quantity: this.sub.quantity,
      paymentMethod: this.sub.paymentMethod,
      exceptions: [],
      nextExceptionSeq: 1,
      cancelledFrom: null,
      period: 0,
      periodStart: null,
      periodPaid: false,
      creditedDaysTotal: 0,
      billing: 'pending',
      billingReason: null,
      dunning: null,
      notified: [],
      runs: 0,
    };
    this.st.runs += 1;
  }

  // ---- time ----
  get tz(): string {
    return this.sub.timezone;
  }
  now(): number {
    return simNow(this.st.clockAnchor, this.settings.dayMs, Date.now());
  }
  today(): LocalDate {
    return localDateOf(this.now(), this.tz);
  }
  earliest(): LocalDate {
    return earliestChangeableDate(this.now(), this.tz, this.settings.cutoff);
  }
  /** Real milliseconds until the subscription clock reads `simTargetMs`. */
  delayUntil(simTargetMs: number): number {
    return realDelayUntil(this.st.clockAnchor, this.settings.dayMs, Date.now(), simTargetMs);
  }

  // ---- the timeline ----
  scheduleSub(): ScheduleSubscription {
    const { sub, st } = this;
    return {
      id: sub.id,
      startDate: sub.startDate,
      endDate: sub.endDate,
      recurrence: sub.recurrence,
      quantity: st.quantity,
      timezone: this.tz,
      status: 'active',
      cancelledFrom: st.cancelledFrom,
    };
  }
  /** Start of the next period to charge (period 1 starts on the start date). */
  nextPeriod(): { start: LocalDate; creditedDays: number } {
    const { st } = this;
    if (st.period === 0 || st.periodStart === null) return { start: this.sub.startDate, creditedDays: 0 };
    const { end, creditedDays } = periodEndWithCredit(this.scheduleSub(), st.exceptions, st.periodStart, this.settings.billingPeriod);
    return { start: end, creditedDays };
  }
  renewalDate(): LocalDate {
    return addDays(this.nextPeriod().start, -1);
  }
  /** Last delivery day of the subscription (end date or the day before cancellation), if any. */
  lastDay(): LocalDate | null {
    const cancelEnd = this.st.cancelledFrom ? addDays(this.st.cancelledFrom, -1) : null;
    const end = this.sub.endDate;
    if (end && cancelEnd) return end < cancelEnd ? end : cancelEnd;
    return end ?? cancelEnd;
  }
  /** Cancelled, or past its last delivery day: the timeline is over. */
  finished(): boolean {
    const last = this.lastDay();
    return this.st.cancelledFrom !== null || (last !== null && this.today() > last);
  }
  /** What the current period costs: its re-priced charge, or the quote for a period opened before re-pricing. */
  periodAmount(): number {
    return this.st.periodAmount ?? this.sub.pricePerPeriod;
  }
  /** Who a change is recorded as made by. */
  who(createdBy: string | undefined): string {
    return createdBy ?? `customer:${this.sub.customerId}`;
  }

  // ---- what support and the API see ----
  statusFacts(): StatusFacts {
    const d = wouldDeliver(this.scheduleSub(), this.st.exceptions, this.today());
    const paused = d.reason === 'skipped' || d.reason === 'extra_on_skipped_day';
    return {
      today: this.today(),
      cancelledFrom: this.st.cancelledFrom,
      lastDay: this.lastDay(),
      billing: this.st.billing,
      billingReason: this.st.billingReason,
      dunning: this.st.dunning,
      dunningRetries: this.settings.dunningRetryDays.length,
      pausedToday: paused ? d.explanation : null,
      period: this.st.period,
      renewalDate: () => this.renewalDate(),
    };
  }
  flowStatus() {
    return flowStatusOf(this.statusFacts());
  }
  /** The memo's one line: the status, then why (once, when the why already starts with it). */
  summary(): string {
    const facts = this.statusFacts();
    const status = flowStatusOf(facts).replace('_', ' ');
    const why = explainStatus(facts);
    return `Subscription ${this.sub.id}: ${why.startsWith(status) ? why : `${status}. ${why}`}`;
  }
  view(): SubscriptionStateView {
    const { sub, st } = this;
    const next = this.nextPeriod();
    const facts = this.statusFacts();
    return {
      subscriptionId: sub.id,
      customerId: sub.customerId,
      flowStatus: flowStatusOf(facts),
      why: explainStatus(facts),
      today: this.today(),
      earliestChangeableDate: this.earliest(),
      quantity: st.quantity,
      paymentMethod: st.paymentMethod,
      cancelledFrom: st.cancelledFrom,
      period: st.period,
      periodStart: st.periodStart,
      periodPaid: st.periodPaid,
      nextPeriodStart: next.start,
      nextRenewalDate: st.cancelledFrom ? null : addDays(next.start, -1),
      creditedDaysTotal: st.creditedDaysTotal,
      billing: st.billing,
      billingReason: st.billingReason,
      dunning: st.dunning,
      exceptions: st.exceptions,
      lastRejected: this.lastRejected,
      runs: st.runs,
    };
  }
  /**
   * The row's live columns, from the state (the one projection, written after every change). Each
   * call is ordered after the last: workflow time never goes back within a run, and a next run (or a
   * reset) starts later, so a write retried after a newer one cannot put the row back.
   */
  projection(): SubscriptionProjection {
    const { st } = this;
    const next = this.nextPeriod();
    return {
      order: { atMs: Date.now(), seq: ++this.projectionsWritten },
      status: st.cancelledFrom ? 'cancelled' : 'active',
      cancelledFrom: st.cancelledFrom,
      paymentMethod: st.paymentMethod,
      billingState: st.billing,
      billingReason: st.billingReason,
      nextRenewalDate: st.cancelledFrom ? null : addDays(next.start, -1),
      paidThrough: st.periodPaid && st.periodStart ? addDays(next.start, -1) : null,
      pausedDaysCredited: st.creditedDaysTotal,
    };
  }
}
