/**
 * The contract of fulfilment: the end-of-day close of an area (`closeDeliveryDayWorkflow`, run by
 * one Temporal Schedule per area just after its cutoff, or by hand for a date), its input and
 * result, the day summary it stores, and the ledger keys and reasons of missed-delivery credits.
 * Outcomes themselves are written by the API in one transaction each batch (db/fulfilment-outcomes.ts),
 * not by a workflow: a phone's sync must be answered outcome by outcome, at once.
 */
import type { FailureReason } from '../domain/fulfilment';

/** The Schedule that closes an area's day; its runs are named `<scheduleId>-<scheduled instant>`. */
export const deliveryDayCloseScheduleId = (areaId: string) => `delivery-day-close-${areaId}`;
/** A close started by hand for one area and date. */
export const deliveryDayCloseWorkflowId = (areaId: string, date: string) => `delivery-close-${areaId}-${date}`;

export interface CloseDeliveryDayInput {
  areaId: string;
  /** The delivery date to close; default: the day whose cutoff passed last in the area's time zone. */
  date?: string;
}

/** What a day in an area came to: stored by the close, kept current by late reports, read by ops. */
export interface DeliveryDaySummary {
  areaId: string;
  date: string;
  /** Every delivery of the day in the area. */
  total: number;
  delivered: number;
  failed: number;
  failedByReason: Record<FailureReason, number>;
  unconfirmed: number;
  /** Still scheduled: only before the close (a stored summary after it has none). */
  scheduled: number;
  /** Deliveries carrying a missed-delivery credit now, and their paise. */
  credits: number;
  creditedAmount: number;
  closedAt: string;
  updatedAt: string;
}

export interface CloseDeliveryDayResult {
  summary: DeliveryDaySummary;
  /** Deliveries this run moved from scheduled to unconfirmed (0 when it ran before for the day). */
  markedUnconfirmed: number;
  /** Whether an ops alert is open for the day's unconfirmed deliveries. */
  alertOpen: boolean;
}

/** Journal reasons of missed-delivery credits (refType `delivery`, refId the delivery id). */
export const MISSED_DELIVERY_CREDIT_REASON = 'missed_delivery_credit';
export const MISSED_DELIVERY_CREDIT_REVERSAL_REASON = 'missed_delivery_credit_reversal';
export const DELIVERY_REF_TYPE = 'delivery';

/**
 * The ledger key of a delivery's credit. Credited at most once while it stands: `n` counts the
 * credits the delivery was ever given, so one reversed by an ops correction and owed again after a
 * second correction gets a key of its own rather than reusing the reversed one.
 */
export const deliveryCreditKey = (deliveryId: string, n: number) => `delivery-${deliveryId}:credit-${n}`;
export const deliveryCreditReversalKey = (deliveryId: string, n: number) => `delivery-${deliveryId}:credit-${n}:reversal`;

/** Kinds of delivery alerts ops see in GET /v1/ops/alerts. */
export const DELIVERY_ALERT_KINDS = ['deliveries_unconfirmed', 'credit_unpriced', 'credit_reversal_failed'] as const;
export type DeliveryAlertKind = (typeof DELIVERY_ALERT_KINDS)[number];
