/**
 * The only place the schedule module converts between instants and local calendar dates. Uses luxon
 * (deterministic given its inputs; never reads the clock here).
 */
import { DateTime } from 'luxon';
import type { LocalDate } from './types';
import { parseLocalDateParts } from './local-date';

export const DEFAULT_TIMEZONE = 'Asia/Kolkata';
export const DEFAULT_CUTOFF = '22:00';

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Parses 'HH:mm' (00:00..23:59) into [hour, minute]; throws RangeError otherwise. */
export function parseHHmm(hhmm: string): [number, number] {
  const m = typeof hhmm === 'string' ? HHMM.exec(hhmm) : null;
  if (m === null) throw new RangeError(`invalid wall-clock time '${String(hhmm)}' (expected HH:mm)`);
  return [Number(m[1]), Number(m[2])];
}

function zoneOrThrow(timezone: string, dt: DateTime): DateTime {
  if (!dt.isValid) throw new RangeError(`invalid timezone '${timezone}': ${dt.invalidExplanation ?? dt.invalidReason}`);
  return dt;
}

/** The calendar date of an instant (epoch milliseconds) in an IANA timezone. */
export function localDateOf(instantMs: number, timezone: string = DEFAULT_TIMEZONE): LocalDate {
  if (!Number.isFinite(instantMs)) throw new RangeError(`invalid instant ${instantMs}`);
  const dt = zoneOrThrow(timezone, DateTime.fromMillis(instantMs, { zone: timezone }));
  return dt.toISODate() as LocalDate;
}

/**
 * The instant (epoch ms) at which the wall clock in `timezone` reads `hhmm` on `date`. Correct
 * across DST transitions because the offset is resolved for that local date/time, not for "now".
 * Edge cases (luxon semantics): a wall time that does not exist (spring-forward gap, e.g. 02:30 on
 * 2026-03-08 in America/New_York) is moved forward by the gap (→ 03:30 EDT); an ambiguous wall time
 * (fall-back overlap, 01:30 on 2026-11-01) resolves to the earlier instant (first occurrence, EDT),
 * which is the conservative choice for a cutoff.
 */
export function cutoffInstant(date: LocalDate, timezone: string = DEFAULT_TIMEZONE, hhmm: string = DEFAULT_CUTOFF): number {
  const p = parseLocalDateParts(date);
  if (p === null) throw new RangeError(`invalid LocalDate '${String(date)}' (expected YYYY-MM-DD)`);
  const [hour, minute] = parseHHmm(hhmm);
  const dt = zoneOrThrow(
    timezone,
    DateTime.fromObject({ year: p[0], month: p[1], day: p[2], hour, minute, second: 0, millisecond: 0 }, { zone: timezone }),
  );
  const ms = dt.toMillis();
  // luxon resolves an ambiguous wall time to the later offset; prefer the first occurrence.
  for (const backMinutes of [60, 30]) {
    const earlier = DateTime.fromMillis(ms - backMinutes * 60_000, { zone: timezone });
    if (earlier.day === dt.day && earlier.hour === dt.hour && earlier.minute === dt.minute) return earlier.toMillis();
  }
  return ms;
}

/** True when luxon/ICU knows the IANA zone name. */
export function isValidTimezone(timezone: string): boolean {
  return typeof timezone === 'string' && timezone.length > 0 && DateTime.fromMillis(0, { zone: timezone }).isValid;
}
