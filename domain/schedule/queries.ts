/**
 * Range queries over a schedule. All of them compile the schedule once and walk epoch days.
 */
import type { Decision, LocalDate, ScheduleException, ScheduleSubscription } from './types';
import { toEpochDay } from './local-date';
import { compileSchedule, type CompiledSchedule } from './decide';

/** nextDeliveries never looks further than this many days past `fromDate` (≈ 3 years). */
export const NEXT_DELIVERIES_HORIZON_DAYS = 3 * 366;

/**
 * The next `n` delivering dates on or after `fromDate`, as Decisions (date, quantity, reason…).
 * Always terminates: the search stops at the subscription's last possible day (end date /
 * cancellation) or after NEXT_DELIVERIES_HORIZON_DAYS days, so an open-ended pause or a fully
 * skipped schedule yields fewer than n results (possibly none) rather than looping.
 */
export function nextDeliveries(
  sub: ScheduleSubscription,
  exceptions: readonly ScheduleException[],
  fromDate: LocalDate,
  n: number,
): Decision[] {
  const from = toEpochDay(fromDate);
  if (!(n > 0)) return [];
  return deliveringDays(compileSchedule(sub, exceptions), from, from + NEXT_DELIVERIES_HORIZON_DAYS - 1, n);
}

/** Every delivering Decision with from ≤ date ≤ to (inclusive), in date order; [] when to < from. */
export function deliveriesBetween(
  sub: ScheduleSubscription,
  exceptions: readonly ScheduleException[],
  from: LocalDate,
  to: LocalDate,
): Decision[] {
  const s = compileSchedule(sub, exceptions);
  return deliveringDays(s, toEpochDay(from), toEpochDay(to));
}

/** The delivering Decisions of the epoch days first..last inside the subscription's window, the first `limit` of them. */
function deliveringDays(s: CompiledSchedule, first: number, last: number, limit = Infinity): Decision[] {
  const out: Decision[] = [];
  const end = Math.min(last, s.lastDay);
  for (let day = Math.max(first, s.firstDay); day <= end && out.length < limit; day++) {
    const d = s.decideDay(day);
    if (d.deliver) out.push(d);
  }
  return out;
}

/**
 * Number of rule-delivery days in [from, to] (inclusive) that are skipped by at least one covering
 * skip whose reason is in `reasons`. Used for renewal credit ("vacation days are credited, payment
 * failure pauses are not").
 *
 * Decisions: counts *rule days* (a skip over a non-delivery day pauses nothing, so credits
 * nothing), only inside the subscription window (not before start, after end or from
 * cancellation), each day at most once even when several matching skips overlap, and a day counts
 * when *any* covering skip has a listed reason (a vacation overlapping a payment-failure pause is
 * still credited when 'vacation' is listed). A skipped rule day on which an explicit extra was
 * delivered still counts: the rule delivery was paused; the extra is a separate purchase. Ended
 * skips count only up to the day before `endedAt`.
 */
export function pausedDaysIn(
  sub: ScheduleSubscription,
  exceptions: readonly ScheduleException[],
  from: LocalDate,
  to: LocalDate,
  reasons: readonly string[],
): number {
  const wanted = new Set(reasons);
  const relevant = exceptions.filter((e) => e.type === 'skip' && wanted.has(e.reason));
  if (relevant.length === 0) return 0;
  const s = compileSchedule(sub, relevant);
  const first = Math.max(toEpochDay(from), s.firstDay);
  const last = Math.min(toEpochDay(to), s.lastDay);
  let count = 0;
  for (let day = first; day <= last; day++) {
    if (s.ruleDeliversDay(day) && s.skipsOn(day).length > 0) count++;
  }
  return count;
}
