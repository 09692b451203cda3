/**
 * Per-exception rules: when an exception applies, which of two overlapping exceptions wins, and how
 * it is described to support staff.
 */
import type { LocalDate, ScheduleException } from './types';
import { localDateOf, DEFAULT_TIMEZONE } from './timezone';

/**
 * Exceptions the evaluator honours. A 'deliver_extra' or 'change_quantity' without a positive
 * integer quantity is ignored (validateExceptionRequest rejects such requests up front).
 */
export function isEffectiveException(ex: ScheduleException): boolean {
  if (ex.type === 'skip') return true;
  if (ex.type === 'deliver_extra' || ex.type === 'change_quantity') {
    const q = ex.quantity;
    return typeof q === 'number' && q > 0 && Number.isInteger(q);
  }
  return false; // unknown type: ignored
}

/**
 * Last day (inclusive) the exception is nominally for, before `endedAt`: `to`, or for an
 * open-ended range (`to: null`) — forever for a skip, just `from` for any other type (open-ended
 * extras/quantity changes are not allowed; treating them as single-day is the conservative reading).
 */
export function nominalTo(ex: ScheduleException): LocalDate | null {
  return ex.to != null ? ex.to : ex.type === 'skip' ? null : ex.from;
}

/**
 * Does the exception cover `date`? from <= date <= to (open-ended skips: no upper bound), and
 * date < endedAt when the exception was ended. Uses string comparison: valid LocalDates sort
 * chronologically. Does not check isEffectiveException.
 */
export function exceptionCovers(ex: ScheduleException, date: LocalDate): boolean {
  if (date < ex.from) return false;
  const to = ex.to;
  if (to != null) {
    if (date > to) return false;
  } else if (ex.type !== 'skip' && date !== ex.from) return false;
  const endedAt = ex.endedAt;
  return endedAt == null || date < endedAt;
}

function createdMs(ex: ScheduleException): number {
  const ms = Date.parse(ex.createdAt);
  return Number.isNaN(ms) ? -Infinity : ms;
}

/**
 * Is `a` the more recently created exception? Ties (same instant, or unparsable createdAt) are
 * broken by id: the lexicographically greater id counts as newer. Deterministic for distinct ids.
 */
export function isNewer(a: ScheduleException, b: ScheduleException): boolean {
  const ma = createdMs(a);
  const mb = createdMs(b);
  if (ma !== mb) return ma > mb;
  return a.id > b.id;
}

const createdDateCache = new Map<string, string>();

/** The creation date in the subscription's timezone (memoised: luxon is too slow for the hot path). */
function createdOn(createdAt: string, timezone: string): string {
  const key = timezone + '|' + createdAt;
  let v = createdDateCache.get(key);
  if (v === undefined) {
    const ms = Date.parse(createdAt);
    try {
      v = Number.isNaN(ms) ? createdAt : localDateOf(ms, timezone || DEFAULT_TIMEZONE);
    } catch {
      v = createdAt;
    }
    if (createdDateCache.size >= 4096) createdDateCache.clear();
    createdDateCache.set(key, v);
  }
  return v;
}

/** Human range text: `2026-08-12–2026-08-20`, `2026-08-14`, `2026-08-12–open-ended`, plus any early end. */
export function describeRange(ex: ScheduleException): string {
  const to = nominalTo(ex);
  let s = to === null ? ex.from + '–open-ended' : to === ex.from ? ex.from : ex.from + '–' + to;
  if (ex.endedAt != null) s += ' (ended from ' + ex.endedAt + ')';
  return s;
}

/** e.g. `exception E45 'vacation' 2026-08-12–2026-08-20, created by customer-7 on 2026-08-03` */
export function describeException(ex: ScheduleException, timezone: string = DEFAULT_TIMEZONE): string {
  return (
    'exception ' +
    ex.id +
    " '" +
    ex.reason +
    "' " +
    describeRange(ex) +
    ', created by ' +
    ex.createdBy +
    ' on ' +
    createdOn(ex.createdAt, timezone)
  );
}
