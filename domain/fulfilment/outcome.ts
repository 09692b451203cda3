/**
 * How a reported outcome changes a delivery. Reports come from phones that may be offline for
 * hours, so the same report can arrive twice, and two reports about one delivery can arrive in
 * either order. The rules make the result depend only on which reports arrived, never on their order:
 *
 * 1. A report must be well formed (a failure has a reason, a delivery none) and its `at` on the
 *    delivery's day (see day.ts); otherwise it is rejected and changes nothing.
 * 2. From the field (`staff`): on a delivery nobody has reported yet (`scheduled`, or `unconfirmed`
 *    after the day closed) it applies. On a reported one, the report that happened last wins: a
 *    later `at` applies (the milkman came back at 9 and delivered after all), an earlier one is
 *    `superseded` (kept in the history, not applied), the same report again is a `duplicate`.
 *    Reports at the same instant are ordered delivered first, then by reason, so the order is total.
 * 3. Once ops have corrected a delivery, the field can no longer change it (`corrected_by_ops`):
 *    the correction is what ops decided after following it up.
 * 4. An ops correction (`ops`) applies whatever was reported before, unless it says exactly what
 *    the delivery already says (`duplicate`). It is audited by the API; nothing is overwritten
 *    silently, since every applied report is kept in the delivery's history.
 */
import { FAILURE_REASONS, type DeliveryDay, type FailureReason, type OutcomeReport, type OutcomeState } from './types';
import { outcomeTimeProblem, type OutcomeTimeProblem } from './day';

export type OutcomeRejectionCode = 'reason_required' | 'reason_not_allowed' | 'corrected_by_ops' | OutcomeTimeProblem;

export type OutcomeDecision =
  | { result: 'applied'; next: OutcomeState }
  | { result: 'duplicate' }
  | { result: 'superseded' }
  | { result: 'rejected'; kind: 'invalid' | 'conflict'; code: OutcomeRejectionCode; message: string };

const REJECTION_TEXT: Record<OutcomeRejectionCode, string> = {
  reason_required: 'A failed delivery needs a reason',
  reason_not_allowed: 'A delivered outcome takes no failure reason',
  corrected_by_ops: 'Ops corrected this delivery; only ops can change it now',
  at_outside_day: 'The outcome must have happened on the delivery day (in the area’s time zone)',
  at_in_future: 'The outcome cannot have happened in the future',
};

function rejected(code: OutcomeRejectionCode): OutcomeDecision {
  return { result: 'rejected', kind: code === 'corrected_by_ops' ? 'conflict' : 'invalid', code, message: REJECTION_TEXT[code] };
}

/** The order of two reports made at the same instant: a delivery outranks any failure, failures go by reason. */
function rank(status: string, reason: FailureReason | null): number {
  return status === 'delivered' ? FAILURE_REASONS.length : reason === null ? -1 : FAILURE_REASONS.indexOf(reason);
}

/** Which of two reported outcomes happened last (> 0: `a`); 0 only for the same outcome at the same instant. */
export function compareOutcomes(
  a: { status: string; reason: FailureReason | null; atMs: number },
  b: { status: string; reason: FailureReason | null; atMs: number },
): number {
  if (a.atMs !== b.atMs) return a.atMs - b.atMs;
  return rank(a.status, a.reason) - rank(b.status, b.reason);
}

/** The problem with a report on its own (shape and time), before the delivery's state is consulted. */
export function reportProblem(report: OutcomeReport, day: DeliveryDay, nowMs: number): OutcomeRejectionCode | null {
  if (report.outcome === 'failed' && report.reason === null) return 'reason_required';
  if (report.outcome === 'delivered' && report.reason !== null) return 'reason_not_allowed';
  return outcomeTimeProblem(report.atMs, day.date, day.timezone, nowMs);
}

/** What `report` does to a delivery in state `current` (see the module comment). Pure. */
export function decideOutcome(current: OutcomeState, report: OutcomeReport, day: DeliveryDay, nowMs: number): OutcomeDecision {
  const problem = reportProblem(report, day, nowMs);
  if (problem !== null) return rejected(problem);
  const next: OutcomeState = { status: report.outcome, reason: report.reason, atMs: report.atMs, source: report.source };
  const same = current.status === next.status && current.reason === next.reason && current.atMs === next.atMs;
  if (report.source === 'ops') return same ? { result: 'duplicate' } : { result: 'applied', next };
  if (current.source === 'ops') return same ? { result: 'duplicate' } : rejected('corrected_by_ops');
  if (current.atMs === null || (current.status !== 'delivered' && current.status !== 'failed')) return { result: 'applied', next };
  const order = compareOutcomes({ status: next.status, reason: next.reason, atMs: report.atMs }, { ...current, atMs: current.atMs });
  return order > 0 ? { result: 'applied', next } : order === 0 ? { result: 'duplicate' } : { result: 'superseded' };
}

/** A delivery as the nightly job leaves it. */
export const SCHEDULED: OutcomeState = Object.freeze({ status: 'scheduled', reason: null, atMs: null, source: null });
