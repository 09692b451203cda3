/**
 * The subscription clock. In production it is the workflow clock. Tests shorten a day (dayMs) so a
 * billing cycle with pauses and dunning runs in seconds while every date rule stays the same:
 * subscription time advances 86,400,000 / dayMs times as fast as real time from a pinned anchor.
 */
export const DAY_MS = 86_400_000;

export interface ClockAnchor {
  realMs: number;
  simMs: number;
}

/** The subscription-clock instant at real instant `realMs`. */
export function simNow(anchor: ClockAnchor, dayMs: number, realMs: number): number {
  if (dayMs === DAY_MS) return anchor.simMs + (realMs - anchor.realMs);
  return anchor.simMs + Math.floor(((realMs - anchor.realMs) * DAY_MS) / dayMs);
}

/** Real milliseconds to wait until the subscription clock reads `simTargetMs` (0 if it already does). */
export function realDelayUntil(anchor: ClockAnchor, dayMs: number, realMs: number, simTargetMs: number): number {
  const simDelta = simTargetMs - simNow(anchor, dayMs, realMs);
  if (simDelta <= 0) return 0;
  if (dayMs === DAY_MS) return simDelta;
  return Math.max(1, Math.ceil((simDelta * dayMs) / DAY_MS));
}
