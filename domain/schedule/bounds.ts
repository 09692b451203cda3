/**
 * How far a requested date may reach. One rule, used by the API before it starts or signals a
 * workflow and by the workflow's own validators (validateExceptionRequest), so a far date is a
 * normal rejection wherever it comes from — never a date the timeline later cannot compute with.
 */
import type { LocalDate } from './types';
import { toEpochDay } from './local-date';

/**
 * Nothing is scheduled more than this many days after today: a subscription's start, a pause, a
 * skip, an extra, a quantity change, a holiday. A year (leap years included) covers every
 * real plan and keeps every date the timeline derives from them far inside the supported calendar.
 */
export const MAX_DAYS_AHEAD = 366;

/**
 * A subscription's end date, when it has one, lies at most this many days ahead (about three
 * years; without an end date it runs until cancelled). Bounded so every date the timeline derives
 * from it — the day after the end, a period end with a year of vacation credit — stays computable.
 */
export const MAX_END_DAYS_AHEAD = 3 * 366;

export type DateBoundsError = 'too_far_ahead' | 'before_subscription_start' | 'after_subscription_end';

export interface DateBounds {
  /** Today in the subscription's timezone. */
  today: LocalDate;
  /** Default MAX_DAYS_AHEAD. */
  maxDaysAhead?: number;
  /** The subscription's first day, when the caller knows it: a change may not begin before it. */
  startDate?: LocalDate | null;
  /** Its last day, when it has one: a change may not reach past it. */
  endDate?: LocalDate | null;
}

/** Days from `today` to `date` (negative when `date` is earlier). Pure epoch arithmetic: never raises for a far date. */
export function daysAhead(today: LocalDate, date: LocalDate): number {
  return toEpochDay(date) - toEpochDay(today);
}

/**
 * Errors for the range `from`..`to` (inclusive; `to` null = open-ended, which only the end date
 * bounds). Both dates must be valid LocalDates (callers check format first).
 * - 'too_far_ahead': `from` or `to` is more than maxDaysAhead days after today.
 * - 'before_subscription_start': `from` is before startDate.
 * - 'after_subscription_end': `from` or `to` is after endDate.
 */
export function dateBoundsErrors(from: LocalDate, to: LocalDate | null, b: DateBounds): DateBoundsError[] {
  const errors: DateBoundsError[] = [];
  const max = b.maxDaysAhead ?? MAX_DAYS_AHEAD;
  if (daysAhead(b.today, from) > max || (to !== null && daysAhead(b.today, to) > max)) errors.push('too_far_ahead');
  if (b.startDate != null && from < b.startDate) errors.push('before_subscription_start');
  if (b.endDate != null && (from > b.endDate || (to !== null && to > b.endDate))) errors.push('after_subscription_end');
  return errors;
}
