/**
 * Fulfilment: what happened to each delivery the nightly job scheduled. Pure types and lists; the
 * API's schemas, the database's CHECKs and the rules below all take their values from here.
 */
import type { LocalDate } from '../schedule';

/** Why a delivery person could not hand the delivery over. */
export const FAILURE_REASONS = ['not_home', 'refused', 'no_access', 'out_of_stock', 'other'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/**
 * A delivery's state. `scheduled`: generated, nothing reported yet; `delivered` / `failed`: reported
 * (by the delivery person, or set by an ops correction); `unconfirmed`: the area's day closed with
 * nothing reported — ops follow it up, and a late report from the field is still taken.
 */
export const DELIVERY_STATUSES = ['scheduled', 'delivered', 'failed', 'unconfirmed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What a report says happened. */
export type ReportedOutcome = 'delivered' | 'failed';

/** Who set a delivery's state: the delivery person, ops correcting it, or the end-of-day close. */
export type OutcomeSource = 'staff' | 'ops' | 'system';

/** The part of a delivery's state the outcome rules decide on. */
export interface OutcomeState {
  status: DeliveryStatus;
  reason: FailureReason | null;
  /** When the reported outcome happened (epoch ms); null before any report. */
  atMs: number | null;
  source: OutcomeSource | null;
}

/** One report of an outcome, as the rules read it. */
export interface OutcomeReport {
  outcome: ReportedOutcome;
  reason: FailureReason | null;
  /** When it happened (epoch ms): on the delivery's day, in its area's time zone. */
  atMs: number;
  source: 'staff' | 'ops';
}

/** A delivery's day in its area: the calendar date and the area's time zone. */
export interface DeliveryDay {
  date: LocalDate;
  timezone: string;
}
