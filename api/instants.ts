import { z } from 'zod';

/** How far ahead the API lets anyone schedule something (a market's open or close, a close time). */
export const MAX_DAYS_AHEAD = 366;
const DAY_MS = 86_400_000;
/** Before this no instant the API takes can mean anything; it also keeps timestamps well inside Postgres' range. */
const EARLIEST = Date.parse('2000-01-01T00:00:00Z');

/**
 * An ISO-8601 instant with an offset, bounded: not before 2000 and at most MAX_DAYS_AHEAD days from
 * now (checked at request time). Unbounded instants let `9999-12-31` through into timers and rows.
 */
export function boundedInstant() {
  return z.iso.datetime({ offset: true }).superRefine((value, ctx) => {
    const ms = Date.parse(value);
    if (Number.isNaN(ms) || ms < EARLIEST) ctx.addIssue({ code: 'custom', message: 'must be on or after 2000-01-01' });
    else if (ms > Date.now() + MAX_DAYS_AHEAD * DAY_MS)
      ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_DAYS_AHEAD} days from now` });
  });
}
