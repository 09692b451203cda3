/**
 * Billing-period rules: where a period ends once vacation days are credited, when it is charged,
 * and when dunning retries fall. Pure; used by the workflow and tested on its own.
 */
import {
  addDays,
  addMonthsClamped,
  cutoffInstant,
  localDateOf,
  pausedDaysIn,
  type LocalDate,
  type ScheduleException,
  type ScheduleSubscription,
} from '../schedule';
import { DAY_MS } from './clock';
import type { BillingPeriod } from './types';

/** Reasons whose paused days move the next renewal forward. Payment-failure pauses are not credited. */
export const CREDITED_PAUSE_REASONS = ['vacation'] as const;

/** Credit never moves a renewal more than a year (an open-ended vacation pauses, it does not bill-free forever). */
export const MAX_CREDIT_DAYS = 366;

/** Exclusive end of a period starting on `start`, before credit. Months clamp (Jan 31 + 1 month = Feb 28/29). */
export function nominalPeriodEnd(start: LocalDate, period: BillingPeriod): LocalDate {
  return period.unit === 'month' ? addMonthsClamped(start, period.count) : addDays(start, period.count);
}

/**
 * The exclusive end of the period that starts on `start`: the nominal end moved forward by the
 * vacation-paused rule-delivery days inside the period. Paused days that fall in the extension
 * count as well (a fixpoint), so the customer always receives the deliveries they paid for: a
 * period of 3 daily deliveries with the 2nd–5th paused ends after the 6th and 7th have been delivered.
 */
export function periodEndWithCredit(
  sub: ScheduleSubscription,
  exceptions: readonly ScheduleException[],
  start: LocalDate,
  period: BillingPeriod,
): { end: LocalDate; creditedDays: number } {
  const nominal = nominalPeriodEnd(start, period);
  let credit = 0;
  for (let i = 0; i < MAX_CREDIT_DAYS + 1; i++) {
    const end = addDays(nominal, credit);
    const next = Math.min(MAX_CREDIT_DAYS, pausedDaysIn(sub, exceptions, start, addDays(end, -1), CREDITED_PAUSE_REASONS));
    if (next === credit) return { end, creditedDays: credit };
    credit = next;
  }
  return { end: addDays(nominal, credit), creditedDays: credit };
}

/** The instant (subscription clock) at which the period starting on `start` is charged: the day before, at `renewalTime`. */
export function renewalInstant(start: LocalDate, timezone: string, renewalTime: string): number {
  return cutoffInstant(addDays(start, -1), timezone, renewalTime);
}

/** The first date a customer may still change at instant `nowMs`: tomorrow, or the day after once tonight's cutoff passed. */
export function earliestChangeableDate(nowMs: number, timezone: string, cutoff: string): LocalDate {
  const today = localDateOf(nowMs, timezone);
  return nowMs >= cutoffInstant(today, timezone, cutoff) ? addDays(today, 2) : addDays(today, 1);
}

/** Instant of dunning retry number `retry` (1-based) counted from the first decline; null when retries are exhausted. */
export function dunningRetryAt(firstFailedAtMs: number, retryDays: readonly number[], retry: number): number | null {
  if (retry < 1 || retry > retryDays.length) return null;
  return firstFailedAtMs + Math.round(retryDays[retry - 1] * DAY_MS);
}
