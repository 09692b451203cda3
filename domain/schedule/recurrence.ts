/**
 * Recurrence rules: which dates the subscription's rule delivers on, before any exception.
 */
import type { LocalDate, Recurrence, ScheduleSubscription } from './types';
import { daysInMonth, civilFromEpochDay, isoWeekdayOfEpochDay, parseLocalDateParts, epochDayFromCivil, toEpochDay } from './local-date';

/** Error codes for a malformed recurrence (empty list = valid). */
export function validateRecurrence(r: Recurrence): string[] {
  const errors: string[] = [];
  if (r === null || typeof r !== 'object') return ['recurrence_missing'];
  switch (r.kind) {
    case 'daily':
      break;
    case 'every_n_days':
      if (!Number.isInteger(r.n) || r.n < 1) errors.push('every_n_days_invalid_n');
      break;
    case 'days_of_week':
      if (!Array.isArray(r.days) || r.days.length === 0) errors.push('days_of_week_empty');
      else if (!r.days.every((d) => Number.isInteger(d) && d >= 1 && d <= 7)) errors.push('days_of_week_invalid_day');
      break;
    case 'days_of_month':
      if (!Array.isArray(r.days) || r.days.length === 0) errors.push('days_of_month_empty');
      else if (!r.days.every((d) => d === 'last' || (Number.isInteger(d) && d >= 1 && d <= 31))) errors.push('days_of_month_invalid_day');
      break;
    default:
      errors.push('recurrence_unknown_kind');
  }
  return errors;
}

/**
 * The rules for a rule a customer asks for now: validateRecurrence, plus each weekday or day of
 * the month at most once ([1, 1, 1] is a typo or a probe, not three deliveries a week:
 * 'days_of_week_duplicate_day', 'days_of_month_duplicate_day'). The evaluators do not apply the
 * duplicate rule, so rules stored before it existed keep working.
 */
export function validateRecurrenceRequest(r: Recurrence): string[] {
  const errors = validateRecurrence(r);
  if (errors.length > 0) return errors;
  if (r.kind === 'days_of_week' && new Set(r.days).size !== r.days.length) errors.push('days_of_week_duplicate_day');
  if (r.kind === 'days_of_month' && new Set(r.days).size !== r.days.length) errors.push('days_of_month_duplicate_day');
  return errors;
}

function assertValidRecurrence(r: Recurrence): void {
  const errors = validateRecurrence(r);
  if (errors.length > 0) throw new RangeError(`invalid recurrence ${JSON.stringify(r)}: ${errors.join(', ')}`);
}

/**
 * A recurrence compiled to integer tests. `matches(epochDay)` answers for the rule alone (it does
 * not check start/end — callers do). For every_n_days, `anchorDay` is the start date's epoch day.
 */
export interface CompiledRecurrence {
  readonly kind: Recurrence['kind'];
  matches(epochDay: number): boolean;
}

export function compileRecurrence(r: Recurrence, anchorDay: number): CompiledRecurrence {
  assertValidRecurrence(r);
  switch (r.kind) {
    case 'daily':
      return { kind: 'daily', matches: () => true };
    case 'every_n_days': {
      const n = r.n;
      return { kind: 'every_n_days', matches: (day) => (((day - anchorDay) % n) + n) % n === 0 };
    }
    case 'days_of_week': {
      let mask = 0;
      for (const d of r.days) mask |= 1 << d;
      return { kind: 'days_of_week', matches: (day) => (mask & (1 << isoWeekdayOfEpochDay(day))) !== 0 };
    }
    case 'days_of_month': {
      let mask = 0; // bit d set = deliver on day d (when d <= the month's length)
      let onLast = false; // 'last' present
      let maxDay = 0; // a day beyond the month's length means the month's last day
      for (const d of r.days) {
        if (d === 'last') onLast = true;
        else {
          mask |= 1 << d;
          if (d > maxDay) maxDay = d;
        }
      }
      return {
        kind: 'days_of_month',
        matches: (day) => {
          const c = civilFromEpochDay(day);
          if ((mask & (1 << c.day)) !== 0) return true;
          return c.day >= 28 && (onLast || maxDay > c.day) && c.day === daysInMonth(c.year, c.month);
        },
      };
    }
  }
}

/**
 * Rule test on pre-parsed parts (hot path of wouldDeliver; no allocation). Throws RangeError for a
 * malformed recurrence. Does not check start/end.
 */
export function recurrenceMatchesParts(
  r: Recurrence,
  startDate: LocalDate,
  year: number,
  month: number,
  dayOfMonth: number,
  epochDay: number,
): boolean {
  switch (r.kind) {
    case 'daily':
      return true;
    case 'every_n_days': {
      const n = r.n;
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`invalid recurrence: every_n_days n=${n}`);
      const diff = epochDay - toEpochDay(startDate);
      return ((diff % n) + n) % n === 0;
    }
    case 'days_of_week': {
      const wd = isoWeekdayOfEpochDay(epochDay);
      const days = r.days;
      for (let i = 0; i < days.length; i++) {
        const d = days[i];
        if (d === wd) return true;
        if (!(d >= 1 && d <= 7 && Number.isInteger(d))) throw new RangeError(`invalid recurrence: weekday ${d}`);
      }
      return false;
    }
    case 'days_of_month': {
      const dim = daysInMonth(year, month);
      const isLast = dayOfMonth === dim;
      const days = r.days;
      for (let i = 0; i < days.length; i++) {
        const d = days[i];
        if (d === dayOfMonth) return true;
        if (d === 'last') {
          if (isLast) return true;
        } else {
          if (!(d >= 1 && d <= 31 && Number.isInteger(d))) throw new RangeError(`invalid recurrence: day of month ${d}`);
          if (isLast && d > dim) return true;
        }
      }
      return false;
    }
    default:
      throw new RangeError(`invalid recurrence kind ${(r as { kind: unknown }).kind}`);
  }
}

/** Start/end/cancellation window check with string comparison (valid LocalDates sort chronologically). */
export function outsideWindow(sub: ScheduleSubscription, date: LocalDate): 'before_start' | 'after_end' | 'cancelled' | null {
  if (date < sub.startDate) return 'before_start';
  const end = sub.endDate;
  if (end != null && date > end) return 'after_end';
  const cancelledFrom = sub.cancelledFrom;
  if (cancelledFrom != null) {
    if (date >= cancelledFrom) return 'cancelled';
  } else if (sub.status === 'cancelled') return 'cancelled';
  return null;
}

/**
 * Does the recurrence alone deliver on `date`? Respects the subscription window: false before
 * startDate, after endDate, and on/after cancellation (so `ruleDelivers(sub, d)` ===
 * `wouldDeliver(sub, [], d).deliver`). Exceptions are not considered.
 */
export function ruleDelivers(sub: ScheduleSubscription, date: LocalDate): boolean {
  const p = parseLocalDateParts(date);
  if (p === null) throw new RangeError(`invalid LocalDate '${String(date)}' (expected YYYY-MM-DD)`);
  if (outsideWindow(sub, date) !== null) return false;
  return recurrenceMatchesParts(sub.recurrence, sub.startDate, p[0], p[1], p[2], epochDayFromCivil(p[0], p[1], p[2]));
}
