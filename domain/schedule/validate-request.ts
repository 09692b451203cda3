/**
 * Validation of customer/support requests to create a schedule exception.
 */
import type { ExceptionType, LocalDate } from './types';
import { isValidLocalDate } from './local-date';
import { cutoffInstant, DEFAULT_CUTOFF, DEFAULT_TIMEZONE } from './timezone';
import { dateBoundsErrors, daysAhead, type DateBoundsError } from './bounds';

/** The most units one delivery may carry, on every path (API and signals): it bounds what a renewal can charge. */
export const MAX_DELIVERY_QUANTITY = 100;

export interface ExceptionRequest {
  type: ExceptionType;
  from: LocalDate;
  to: LocalDate | null;
  quantity?: number | null;
}

export interface ExceptionRequestContext {
  /** Today's date in the subscription's timezone. */
  today: LocalDate;
  /** Current instant, epoch ms (passed in; this module never reads the clock). */
  nowMs: number;
  /** IANA timezone of the subscription; default Asia/Kolkata. */
  timezone?: string;
  /** Nightly order cutoff as 'HH:mm' local time; default 22:00. */
  cutoff?: string;
  /** How many days after today a request may reach; default MAX_DAYS_AHEAD (366). */
  maxDaysAhead?: number;
  /** The subscription's first day: an exception may not begin before it. Omit for a cancel or a resume. */
  startDate?: LocalDate | null;
  /** The subscription's last day, when it has one: an exception may not reach past it. */
  endDate?: LocalDate | null;
}

export type ExceptionRequestError =
  | 'invalid_type'
  | 'invalid_from'
  | 'invalid_to'
  | 'to_before_from'
  | 'open_ended_not_allowed'
  | 'range_in_past'
  | 'starts_in_past'
  | 'after_cutoff'
  | 'quantity_required'
  | 'quantity_not_positive'
  | 'quantity_not_integer'
  | 'quantity_too_large'
  | 'quantity_not_allowed'
  | DateBoundsError;

/**
 * Returns error codes (empty = valid):
 * - 'invalid_type' / 'invalid_from' / 'invalid_to': malformed input.
 * - 'to_before_from': to < from.
 * - 'open_ended_not_allowed': to = null for anything but a skip.
 * - 'range_in_past': the whole range ends before tomorrow (to ≤ today).
 * - 'starts_in_past': from ≤ today while the range reaches tomorrow or later. Today's delivery is
 *   already locked (last night's cutoff passed), so the earliest changeable date is tomorrow.
 * - 'after_cutoff': from is tomorrow but now is at/after tonight's cutoff (today at `cutoff`,
 *   local time in `timezone`, DST-correct). Tomorrow's orders are already locked; start the day after.
 * - 'too_far_ahead': from or to more than maxDaysAhead (366) days after today;
 *   'before_subscription_start' / 'after_subscription_end': outside the subscription's life, when
 *   the context gives startDate / endDate (see dateBoundsErrors). Listed after the codes above.
 * - 'quantity_required': extra/change without quantity; 'quantity_not_positive' (≤ 0) and
 *   'quantity_not_integer' for a bad quantity; 'quantity_too_large' above MAX_DELIVERY_QUANTITY; 'quantity_not_allowed': a skip with a quantity.
 *
 * Never throws for a request, however far its dates (only for a malformed `ctx.today`), so a
 * workflow's signal handler can turn any bad request into a rejection instead of a failed task.
 */
export function validateExceptionRequest(req: ExceptionRequest, ctx: ExceptionRequestContext): ExceptionRequestError[] {
  const errors: ExceptionRequestError[] = [];
  const typeOk = req.type === 'skip' || req.type === 'deliver_extra' || req.type === 'change_quantity';
  if (!typeOk) errors.push('invalid_type');
  const fromOk = isValidLocalDate(req.from);
  if (!fromOk) errors.push('invalid_from');
  const toOk = req.to === null || isValidLocalDate(req.to);
  if (!toOk) errors.push('invalid_to');
  if (req.to === null && typeOk && req.type !== 'skip') errors.push('open_ended_not_allowed');
  if (fromOk && toOk && req.to !== null && req.to < req.from) errors.push('to_before_from');

  if (!isValidLocalDate(ctx.today)) throw new RangeError(`invalid today '${String(ctx.today)}'`);
  if (fromOk && toOk) {
    if (req.to !== null && req.to <= ctx.today) errors.push('range_in_past');
    else if (req.from <= ctx.today) errors.push('starts_in_past');
    else if (daysAhead(ctx.today, req.from) === 1) {
      const cutoffMs = cutoffInstant(ctx.today, ctx.timezone ?? DEFAULT_TIMEZONE, ctx.cutoff ?? DEFAULT_CUTOFF);
      if (ctx.nowMs >= cutoffMs) errors.push('after_cutoff');
    }
    if (req.to === null || req.to >= req.from) errors.push(...dateBoundsErrors(req.from, req.to, ctx));
  }

  const q = req.quantity;
  if (typeOk && req.type !== 'skip') {
    if (q === undefined || q === null) errors.push('quantity_required');
    else if (typeof q !== 'number' || Number.isNaN(q) || q <= 0) errors.push('quantity_not_positive');
    else if (!Number.isInteger(q)) errors.push('quantity_not_integer');
    else if (q > MAX_DELIVERY_QUANTITY) errors.push('quantity_too_large');
  } else if (typeOk && q !== undefined && q !== null) errors.push('quantity_not_allowed');
  return errors;
}
