/**
 * Pure integer arithmetic on calendar dates. A LocalDate `YYYY-MM-DD` maps to an "epoch day":
 * the number of days since 1970-01-01 (which is day 0, a Thursday). No Date, no luxon here — these
 * functions are on the hot path of wouldDeliver.
 *
 * Two ranges. Any real date 0001-01-01..9999-12-31 *parses* (so a request or a stored row with a
 * far date can be read and answered with a clear rejection). Dates are only *computed* inside the
 * supported calendar, MIN_SUPPORTED_DATE..MAX_SUPPORTED_DATE (2000–2100, well inside what luxon
 * and the IANA zone data handle): a function whose result would fall outside it raises
 * DateOutOfRangeError rather than produce a date nothing downstream can use.
 */
import type { LocalDate } from './types';

/** First and last day of the supported calendar (inclusive). */
export const MIN_SUPPORTED_DATE: LocalDate = '2000-01-01';
export const MAX_SUPPORTED_DATE: LocalDate = '2100-12-31';

/**
 * A date computation left the supported calendar (e.g. a period end a month after 2100-12-31).
 * A RangeError subclass, so existing `catch (RangeError)` sites keep working; `code` is stable
 * for callers that map it to a rejection (`date_out_of_range`).
 */
export class DateOutOfRangeError extends RangeError {
  readonly code = 'date_out_of_range' as const;
  constructor(readonly year: number) {
    super(`date out of supported range (year ${year}; supported ${MIN_SUPPORTED_DATE}..${MAX_SUPPORTED_DATE})`);
    this.name = 'DateOutOfRangeError';
  }
}

const MIN_SUPPORTED_YEAR = 2000;
const MAX_SUPPORTED_YEAR = 2100;

const DASH = 45; // '-'
const ZERO = 48; // '0'

/** Gregorian leap year: divisible by 4, except centuries not divisible by 400 (2100 is not leap). */
export function isLeapYear(year: number): boolean {
  return (year & 3) === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** Days in `month` (1..12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Epoch day of a civil date (H. Hinnant's days_from_civil). Month 1..12. */
export function epochDayFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = (((153 * mp + 2) / 5) | 0) + day - 1;
  const doe = yoe * 365 + ((yoe / 4) | 0) - ((yoe / 100) | 0) + doy;
  return era * 146097 + doe - 719468;
}

/** Civil date of an epoch day (H. Hinnant's civil_from_days). */
export function civilFromEpochDay(epochDay: number): { year: number; month: number; day: number } {
  const z = epochDay + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = ((doe - ((doe / 1460) | 0) + ((doe / 36524) | 0) - ((doe / 146096) | 0)) / 365) | 0;
  const doy = doe - (365 * yoe + ((yoe / 4) | 0) - ((yoe / 100) | 0));
  const mp = ((5 * doy + 2) / 153) | 0;
  const day = doy - (((153 * mp + 2) / 5) | 0) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function digit(s: string, i: number): number {
  const d = s.charCodeAt(i) - ZERO;
  return d >= 0 && d <= 9 ? d : -1000; // poisons the sum so range checks fail
}

/**
 * Strictly parses `YYYY-MM-DD` into [year, month, day]; returns null when malformed or not a real
 * date (2025-02-29, 2026-04-31, month 13 …). Years 0001..9999.
 */
export function parseLocalDateParts(s: string): [number, number, number] | null {
  if (typeof s !== 'string' || s.length !== 10 || s.charCodeAt(4) !== DASH || s.charCodeAt(7) !== DASH) return null;
  const year = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3);
  const month = digit(s, 5) * 10 + digit(s, 6);
  const day = digit(s, 8) * 10 + digit(s, 9);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  return [year, month, day];
}

/** A real calendar date written `YYYY-MM-DD` (any year 0001..9999; see isSupportedLocalDate). */
export function isValidLocalDate(s: unknown): s is LocalDate {
  return typeof s === 'string' && parseLocalDateParts(s) !== null;
}

/** A valid LocalDate inside the supported calendar (MIN_SUPPORTED_DATE..MAX_SUPPORTED_DATE). */
export function isSupportedLocalDate(s: unknown): s is LocalDate {
  if (typeof s !== 'string') return false;
  const p = parseLocalDateParts(s);
  return p !== null && p[0] >= MIN_SUPPORTED_YEAR && p[0] <= MAX_SUPPORTED_YEAR;
}

/** Epoch day of a LocalDate; throws RangeError when the string is not a valid `YYYY-MM-DD` date. */
export function toEpochDay(s: LocalDate): number {
  const p = parseLocalDateParts(s);
  if (p === null) throw new RangeError(`invalid LocalDate '${String(s)}' (expected YYYY-MM-DD)`);
  return epochDayFromCivil(p[0], p[1], p[2]);
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : '' + n;
}

/** Formats a civil date; throws DateOutOfRangeError outside the supported calendar. */
export function formatCivil(year: number, month: number, day: number): LocalDate {
  if (!(year >= MIN_SUPPORTED_YEAR && year <= MAX_SUPPORTED_YEAR)) throw new DateOutOfRangeError(year);
  return year + '-' + pad2(month) + '-' + pad2(day);
}

/** The LocalDate of an epoch day; throws DateOutOfRangeError outside the supported calendar. */
export function fromEpochDay(epochDay: number): LocalDate {
  const c = civilFromEpochDay(epochDay);
  return formatCivil(c.year, c.month, c.day);
}

/** ISO weekday (1 = Monday … 7 = Sunday) of an epoch day. Day 0 (1970-01-01) is a Thursday. */
export function isoWeekdayOfEpochDay(epochDay: number): number {
  return ((((epochDay + 3) % 7) + 7) % 7) + 1;
}

export function isoWeekday(date: LocalDate): number {
  return isoWeekdayOfEpochDay(toEpochDay(date));
}

/** date + n days (n may be negative; must be an integer). DateOutOfRangeError past the supported calendar. */
export function addDays(date: LocalDate, n: number): LocalDate {
  if (!Number.isInteger(n)) throw new RangeError(`addDays: n must be an integer, got ${n}`);
  return fromEpochDay(toEpochDay(date) + n);
}

/** Signed number of days from `from` to `to` (daysBetween('2026-01-01', '2026-01-03') === 2). */
export function daysBetween(from: LocalDate, to: LocalDate): number {
  return toEpochDay(to) - toEpochDay(from);
}

/**
 * Adds n calendar months (n may be negative), clamping the day to the target month's length:
 * 2026-01-31 + 1 → 2026-02-28, 2024-01-31 + 1 → 2024-02-29, 2026-03-31 − 1 → 2026-02-28.
 * DateOutOfRangeError past the supported calendar.
 */
export function addMonthsClamped(date: LocalDate, n: number): LocalDate {
  if (!Number.isInteger(n)) throw new RangeError(`addMonthsClamped: n must be an integer, got ${n}`);
  const p = parseLocalDateParts(date);
  if (p === null) throw new RangeError(`invalid LocalDate '${String(date)}' (expected YYYY-MM-DD)`);
  const total = p[0] * 12 + (p[1] - 1) + n;
  const year = Math.floor(total / 12);
  const month = total - year * 12 + 1;
  return formatCivil(year, month, Math.min(p[2], daysInMonth(year, month)));
}

/** Lexicographic order of valid LocalDates equals chronological order. */
export function compareLocalDates(a: LocalDate, b: LocalDate): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
