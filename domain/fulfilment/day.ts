/**
 * A delivery day in an area's time zone: when it begins and ends, and which day the end-of-day
 * close is for at a given instant.
 */
import { addDays, cutoffInstant, localDateOf, type LocalDate } from '../schedule';

/** A phone's clock may run this far ahead of ours; an outcome "at" later than that is in the future. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** The day's first instant and the next day's first instant (epoch ms), DST-correct. */
export function dayBounds(date: LocalDate, timezone: string): { startMs: number; endMs: number } {
  return { startMs: cutoffInstant(date, timezone, '00:00'), endMs: cutoffInstant(addDays(date, 1), timezone, '00:00') };
}

export type OutcomeTimeProblem = 'at_outside_day' | 'at_in_future';

/**
 * Is `atMs` a time at which an outcome of the delivery's day can have happened? On that day in the
 * area's time zone, and not after now (give or take the phone's clock). However late the report
 * arrives does not matter: an offline phone syncs when it can.
 */
export function outcomeTimeProblem(atMs: number, date: LocalDate, timezone: string, nowMs: number): OutcomeTimeProblem | null {
  if (!Number.isFinite(atMs)) return 'at_outside_day';
  const { startMs, endMs } = dayBounds(date, timezone);
  if (atMs < startMs || atMs >= endMs) return 'at_outside_day';
  if (atMs > nowMs + CLOCK_SKEW_MS) return 'at_in_future';
  return null;
}

/**
 * The day the area's end-of-day close is for at `nowMs`: today once today's cutoff has passed,
 * else yesterday — so a close that runs late (a worker down over the cutoff) still closes the day
 * it was meant for, and one started by hand in the morning closes the day before.
 */
export function dayToClose(nowMs: number, timezone: string, cutoff: string): LocalDate {
  const today = localDateOf(nowMs, timezone);
  return nowMs >= cutoffInstant(today, timezone, cutoff) ? today : addDays(today, -1);
}
