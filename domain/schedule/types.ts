/**
 * Types for daily-milk subscription schedules.
 *
 * All dates are calendar dates (`YYYY-MM-DD`) in the subscription's own timezone. Nothing in the
 * schedule module converts dates between timezones except `localDateOf` / `cutoffInstant`.
 */
import type { KnownExceptionReason } from './reasons';

/**
 * A calendar date `YYYY-MM-DD` (4-digit year, zero-padded month and day) in some local timezone.
 * Computed dates stay within MIN_SUPPORTED_DATE..MAX_SUPPORTED_DATE (local-date.ts).
 */
export type LocalDate = string;

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export type IsoWeekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

export type Recurrence =
  | { kind: 'daily' }
  /** Every n-th day counted from (and including) the subscription's start date. */
  | { kind: 'every_n_days'; n: number }
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  | { kind: 'days_of_week'; days: number[] }
  /**
   * Days of the month 1..31, or 'last'. A day beyond the month's length (31 in a 30-day month,
   * 29/30/31 in a short February) means that month's last day — never a day of the next month.
   * Duplicates (e.g. 30, 31 and 'last' in April) collapse into a single delivery.
   */
  | { kind: 'days_of_month'; days: (number | 'last')[] };

export type SubscriptionStatus = 'active' | 'cancelled';

export interface ScheduleSubscription {
  id: string;
  startDate: LocalDate;
  /** Last delivery date (inclusive); null/undefined = no end. */
  endDate?: LocalDate | null;
  recurrence: Recurrence;
  /** Base quantity per rule delivery; positive integer. */
  quantity: number;
  /** IANA timezone name, e.g. 'Asia/Kolkata' (the default, see DEFAULT_TIMEZONE). */
  timezone: string;
  status: SubscriptionStatus;
  /**
   * First date with no delivery because of cancellation. Honoured whatever the status (an active
   * subscription may carry a scheduled cancellation). A 'cancelled' subscription without
   * `cancelledFrom` delivers on no date at all.
   */
  cancelledFrom?: LocalDate | null;
}

export type ExceptionType = 'skip' | 'deliver_extra' | 'change_quantity';

/**
 * A known reason (EXCEPTION_REASONS in reasons.ts; requests are checked against its lists), or
 * any string for exceptions stored before the lists existed.
 */
export type ExceptionReason = KnownExceptionReason | (string & {});

export interface ScheduleException {
  id: string;
  type: ExceptionType;
  from: LocalDate;
  /** Last day (inclusive). null = open-ended; only meaningful for 'skip' (see wouldDeliver docs). */
  to: LocalDate | null;
  /** Required (positive integer) for 'deliver_extra' and 'change_quantity'. */
  quantity?: number;
  reason: ExceptionReason;
  createdBy: string;
  /** ISO-8601 instant, e.g. '2026-08-03T04:30:00Z'. */
  createdAt: string;
  /**
   * The exception stops applying on and after this date ("resume early", "payment succeeded").
   * Effective last day = min(to, endedAt − 1). Exceptions are never deleted, only ended.
   */
  endedAt?: LocalDate | null;
}

/** Machine-readable reason codes carried by a Decision. */
export type DecisionReason =
  'rule' | 'not_in_rule' | 'before_start' | 'after_end' | 'cancelled' | 'skipped' | 'extra' | 'quantity_changed' | 'extra_on_skipped_day';

export type DecidedBy = { kind: 'rule' } | { kind: 'exception'; exception: ScheduleException };

export interface Decision {
  date: LocalDate;
  deliver: boolean;
  /** Units to deliver; 0 when not delivering. */
  quantity: number;
  reason: DecisionReason;
  decidedBy: DecidedBy;
  /** Human-readable text for support staff. */
  explanation: string;
}
