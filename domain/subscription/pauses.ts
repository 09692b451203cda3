/**
 * Pause timelines for notifications: when a pause ends ("resuming tomorrow") and when a pause has
 * lasted long enough for a reminder. A "pause" here is any run of consecutive calendar days covered
 * by an effective skip, whatever its reason; overlapping and back-to-back skips form one run.
 */
import { PAUSE_REASONS, addDays, exceptionCovers, fromEpochDay, toEpochDay, type LocalDate, type ScheduleException } from '../schedule';

/** How far ahead the workflow looks for pause ends and reminders. */
export const PAUSE_LOOKAHEAD_DAYS = 400;

export function skipCovers(exceptions: readonly ScheduleException[], date: LocalDate): boolean {
  for (const ex of exceptions) if (ex.type === 'skip' && exceptionCovers(ex, date)) return true;
  return false;
}

/** First day of the paused run that contains `date` (null when `date` is not paused). */
export function pauseRunStart(exceptions: readonly ScheduleException[], date: LocalDate, maxBack = PAUSE_LOOKAHEAD_DAYS): LocalDate | null {
  if (!skipCovers(exceptions, date)) return null;
  let day = toEpochDay(date);
  for (let i = 0; i < maxBack && skipCovers(exceptions, fromEpochDay(day - 1)); i++) day--;
  return fromEpochDay(day);
}

export interface PauseEvent {
  kind: 'pause_ending' | 'pause_reminder';
  /** The local date on which the notification is due (sent at the start of that day). */
  date: LocalDate;
  /** The paused run's first day (reminder) or last day (ending). */
  runStart: LocalDate;
  runEnd: LocalDate | null;
}

/**
 * Pause events due on or after `from` (within the look-ahead), in date order: for every paused run
 * that ends, a 'pause_ending' on its last day; for every run that lasts `reminderDays` days, a
 * 'pause_reminder' on its `reminderDays`-th day. `lastDay` bounds the subscription (end/cancel).
 */
export function upcomingPauseEvents(
  exceptions: readonly ScheduleException[],
  from: LocalDate,
  reminderDays: number,
  lastDay: LocalDate | null,
): PauseEvent[] {
  const events: PauseEvent[] = [];
  if (!exceptions.some((e) => e.type === 'skip')) return events;
  const start = toEpochDay(from);
  const stop = Math.min(start + PAUSE_LOOKAHEAD_DAYS, lastDay ? toEpochDay(lastDay) : Infinity);
  let runStart: number | null = null;
  const covered = (d: number) => skipCovers(exceptions, fromEpochDay(d));
  // A run already under way on `from` started earlier.
  if (covered(start)) runStart = toEpochDay(pauseRunStart(exceptions, from) ?? from);
  for (let d = start; d <= stop; d++) {
    if (!covered(d)) {
      runStart = null;
      continue;
    }
    if (runStart === null) runStart = d;
    if (d - runStart + 1 === reminderDays) {
      events.push({ kind: 'pause_reminder', date: fromEpochDay(d), runStart: fromEpochDay(runStart), runEnd: null });
    }
    if (!covered(d + 1) && d + 1 <= stop) {
      events.push({ kind: 'pause_ending', date: fromEpochDay(d), runStart: fromEpochDay(runStart), runEnd: fromEpochDay(d) });
    }
  }
  return events;
}

/** A `resume` ends the pauses a pause request could start; payment-failure and holiday skips are not the customer's to end. */
const RESUMABLE_REASONS = new Set<string>(PAUSE_REASONS);

/** The resumable pauses still in effect on `from` or later: what a resume from `from` ends. */
export function resumablePauses(exceptions: readonly ScheduleException[], from: LocalDate): ScheduleException[] {
  return exceptions.filter((e) => {
    if (e.type !== 'skip' || !RESUMABLE_REASONS.has(e.reason)) return false;
    let effectiveLast: LocalDate | null = e.to;
    if (e.endedAt) {
      const endedLast = addDays(e.endedAt, -1);
      effectiveLast = effectiveLast === null || endedLast < effectiveLast ? endedLast : effectiveLast;
    }
    return effectiveLast === null || effectiveLast >= from;
  });
}

/** The next day after `today` on which a skip begins or stops applying (paused ↔ active), if any. */
export function nextSkipBoundary(exceptions: readonly ScheduleException[], today: LocalDate): LocalDate | null {
  let best: LocalDate | null = null;
  for (const e of exceptions) {
    if (e.type !== 'skip') continue;
    const endsAfter = e.endedAt ?? (e.to ? addDays(e.to, 1) : null);
    for (const d of [e.from, endsAfter]) if (d && d > today && (best === null || d < best)) best = d;
  }
  return best;
}

/** How long an exception is kept after its last day, for `explain` and support. */
export const EXCEPTION_RETENTION_DAYS = 400;

/** The exceptions worth carrying into the next run: open-ended ones and those that ended within the retention. */
export function exceptionsToCarry(exceptions: readonly ScheduleException[], today: LocalDate): ScheduleException[] {
  const cutoffDay = addDays(today, -EXCEPTION_RETENTION_DAYS);
  return exceptions.filter((e) => {
    const end = e.endedAt ?? (e.type === 'skip' ? e.to : (e.to ?? e.from));
    return end === null || end >= cutoffDay;
  });
}
