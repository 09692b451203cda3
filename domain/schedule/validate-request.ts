/**
 * Validation of customer/support requests to create a schedule exception.
 */
import type { ExceptionType, LocalDate } from './types';
import { isValidLocalDate, addDays } from './local-date';
import { cutoffInstant, DEFAULT_CUTOFF, DEFAULT_TIMEZONE } from './timezone';

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
  | 'quantity_not_allowed';

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
 * - 'quantity_required': extra/change without quantity; 'quantity_not_positive' (≤ 0) and
 *   'quantity_not_integer' for a bad quantity; 'quantity_not_allowed': a skip with a quantity.
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
  const tomorrow = addDays(ctx.today, 1);
  if (fromOk && toOk) {
    if (req.to !== null && req.to <= ctx.today) errors.push('range_in_past');
    else if (req.from <= ctx.today) errors.push('starts_in_past');
    else if (req.from === tomorrow) {
      const cutoffMs = cutoffInstant(ctx.today, ctx.timezone ?? DEFAULT_TIMEZONE, ctx.cutoff ?? DEFAULT_CUTOFF);
      if (ctx.nowMs >= cutoffMs) errors.push('after_cutoff');
    }
  }

  const q = req.quantity;
  if (typeOk && req.type !== 'skip') {
    if (q === undefined || q === null) errors.push('quantity_required');
    else if (typeof q !== 'number' || Number.isNaN(q) || q <= 0) errors.push('quantity_not_positive');
    else if (!Number.isInteger(q)) errors.push('quantity_not_integer');
  } else if (typeOk && q !== undefined && q !== null) errors.push('quantity_not_allowed');
  return errors;
}
