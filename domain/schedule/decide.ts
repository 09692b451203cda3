/**
 * wouldDeliver: the single source of truth for "is there a delivery on this date, how much, and
 * why". Semantics (in order of precedence):
 *
 * 1. Window. Before `startDate` → 'before_start'; after `endDate` → 'after_end'; on/after
 *    `cancelledFrom` (or any date, for a 'cancelled' subscription without cancelledFrom) →
 *    'cancelled'. Nothing is delivered there, extras included. Decided by the rule.
 * 2. Exceptions covering the date are gathered (see exceptionCovers: from ≤ date ≤ to, and
 *    date < endedAt). They combine; no exception cancels another one, so ending one exception only
 *    removes its own effect (two overlapping skips: ending one leaves the other's days skipped).
 *    Malformed extras/quantity changes (no positive integer quantity) are ignored.
 * 3. `change_quantity` sets the base quantity of a rule delivery. Several covering → the most
 *    recently created wins (createdAt, tie → greater id). It does nothing on non-rule days and
 *    does not scale extras.
 * 4. `skip` removes the rule delivery. A skip on a non-rule day changes nothing ('not_in_rule').
 * 5. `deliver_extra` adds its quantity on the date, also on non-rule days ('extra') and on
 *    skipped days — an explicit extra beats a pause: only the extras are delivered
 *    ('extra_on_skipped_day'). Several extras on one date add up.
 *
 * Outcomes: rule day, not skipped → base (+ extras): 'rule' | 'quantity_changed' | 'extra'.
 * Covered by a skip with extras → extras only, 'extra_on_skipped_day'. Rule day skipped, no
 * extras → 'skipped'. Non-rule day with extras → 'extra'. Otherwise 'not_in_rule'.
 * `decidedBy` names the deciding exception: for extras the newest extra, for skips the newest
 * covering skip, for quantity the winning change; the explanation mentions the others.
 *
 * Two evaluators implement these semantics: `wouldDeliver` (one-shot, string comparisons, no
 * allocation besides the Decision) and `compileSchedule` (epoch-day integers, for ranges).
 * Tests check they agree.
 */
import type { Decision, LocalDate, ScheduleException, ScheduleSubscription } from './types';
import { epochDayFromCivil, fromEpochDay, parseLocalDateParts, toEpochDay } from './local-date';
import { compileRecurrence, outsideWindow, recurrenceMatchesParts, type CompiledRecurrence } from './recurrence';
import { describeException, exceptionCovers, isEffectiveException, isNewer, nominalTo } from './exceptions';

const RULE = Object.freeze({ kind: 'rule' as const });
const WEEKDAYS = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** Short human description of the recurrence, e.g. `daily rule`, `rule every 3 days from 2026-01-01`. */
export function describeRule(sub: ScheduleSubscription): string {
  const r = sub.recurrence;
  switch (r.kind) {
    case 'daily':
      return 'daily rule';
    case 'every_n_days':
      return 'rule every ' + r.n + ' days from ' + sub.startDate;
    case 'days_of_week':
      return 'rule on ' + r.days.map((d) => WEEKDAYS[d] ?? String(d)).join(', ');
    case 'days_of_month':
      return 'rule on day ' + r.days.join(', ') + ' of the month';
    default:
      return 'rule';
  }
}

function noDelivery(date: LocalDate, reason: Decision['reason'], decidedBy: Decision['decidedBy'], explanation: string): Decision {
  return { date, deliver: false, quantity: 0, reason, decidedBy, explanation };
}

function windowDecision(sub: ScheduleSubscription, date: LocalDate, w: 'before_start' | 'after_end' | 'cancelled'): Decision {
  const text =
    w === 'before_start'
      ? 'no delivery: before the subscription starts on ' + sub.startDate
      : w === 'after_end'
        ? 'no delivery: after the subscription ended on ' + sub.endDate
        : sub.cancelledFrom != null
          ? 'no delivery: subscription cancelled from ' + sub.cancelledFrom
          : 'no delivery: subscription cancelled';
  return noDelivery(date, w, RULE, text);
}

function others(n: number, what: string): string {
  return n > 1 ? ' (and ' + (n - 1) + ' other overlapping ' + what + (n > 2 ? 's' : '') + ')' : '';
}

/** The exceptions covering one date, folded: the newest of each kind decides, extras add up. */
class Covering {
  skip: ScheduleException | undefined;
  skipCount = 0;
  change: ScheduleException | undefined;
  changeCount = 0;
  extra: ScheduleException | undefined;
  extraCount = 0;
  extraSum = 0;

  add(ex: ScheduleException): void {
    if (ex.type === 'skip') {
      this.skipCount++;
      if (this.skip === undefined || isNewer(ex, this.skip)) this.skip = ex;
    } else if (ex.type === 'deliver_extra') {
      this.extraCount++;
      this.extraSum += ex.quantity as number;
      if (this.extra === undefined || isNewer(ex, this.extra)) this.extra = ex;
    } else {
      this.changeCount++;
      if (this.change === undefined || isNewer(ex, this.change)) this.change = ex;
    }
  }
}

/** Builds the Decision from the covering exceptions (shared by both evaluators). */
function combine(sub: ScheduleSubscription, date: LocalDate, ruleDay: boolean, covering: Covering): Decision {
  const { skip, skipCount, change, changeCount, extra, extraCount, extraSum } = covering;
  const tz = sub.timezone;
  if (extra !== undefined) {
    const extraText = describeException(extra, tz) + others(extraCount, 'extra');
    if (skip !== undefined) {
      return {
        date,
        deliver: true,
        quantity: extraSum,
        reason: 'extra_on_skipped_day',
        decidedBy: { kind: 'exception', exception: extra },
        explanation:
          'deliver ' +
          extraSum +
          ' (extra only, overrides the pause): ' +
          extraText +
          '; paused by ' +
          describeException(skip, tz) +
          others(skipCount, 'skip'),
      };
    }
    if (!ruleDay) {
      return {
        date,
        deliver: true,
        quantity: extraSum,
        reason: 'extra',
        decidedBy: { kind: 'exception', exception: extra },
        explanation: 'deliver ' + extraSum + ' (extra on a non-rule day): ' + extraText,
      };
    }
    const base = change !== undefined ? (change.quantity as number) : sub.quantity;
    return {
      date,
      deliver: true,
      quantity: base + extraSum,
      reason: 'extra',
      decidedBy: { kind: 'exception', exception: extra },
      explanation:
        'deliver ' +
        (base + extraSum) +
        ' (' +
        base +
        ' by ' +
        describeRule(sub) +
        (change !== undefined ? ' with quantity changed by ' + describeException(change, tz) : '') +
        ' + ' +
        extraSum +
        ' extra): ' +
        extraText,
    };
  }
  if (!ruleDay) return noDelivery(date, 'not_in_rule', RULE, 'no delivery: not a delivery day under the ' + describeRule(sub));
  if (skip !== undefined) {
    return noDelivery(
      date,
      'skipped',
      { kind: 'exception', exception: skip },
      'no delivery: ' + describeException(skip, tz) + others(skipCount, 'skip'),
    );
  }
  if (change !== undefined) {
    const q = change.quantity as number;
    return {
      date,
      deliver: true,
      quantity: q,
      reason: 'quantity_changed',
      decidedBy: { kind: 'exception', exception: change },
      explanation:
        'deliver ' +
        q +
        ' (quantity changed from ' +
        sub.quantity +
        '): ' +
        describeException(change, tz) +
        others(changeCount, 'quantity change'),
    };
  }
  return {
    date,
    deliver: true,
    quantity: sub.quantity,
    reason: 'rule',
    decidedBy: RULE,
    explanation: 'deliver ' + sub.quantity + ': ' + describeRule(sub),
  };
}

/**
 * Decision for one date. See the module comment for the semantics. Throws RangeError for an
 * invalid `date` or a malformed recurrence.
 */
export function wouldDeliver(sub: ScheduleSubscription, exceptions: readonly ScheduleException[], date: LocalDate): Decision {
  const p = parseLocalDateParts(date);
  if (p === null) throw new RangeError(`invalid LocalDate '${String(date)}' (expected YYYY-MM-DD)`);
  const w = outsideWindow(sub, date);
  if (w !== null) return windowDecision(sub, date, w);
  const ruleDay = recurrenceMatchesParts(sub.recurrence, sub.startDate, p[0], p[1], p[2], epochDayFromCivil(p[0], p[1], p[2]));
  const covering = new Covering();
  for (let i = 0; i < exceptions.length; i++) {
    const ex = exceptions[i];
    if (exceptionCovers(ex, date) && isEffectiveException(ex)) covering.add(ex);
  }
  return combine(sub, date, ruleDay, covering);
}

interface CompiledException {
  readonly ex: ScheduleException;
  readonly fromDay: number;
  /** Effective last day: min(to, endedAt − 1); Infinity for an open-ended, un-ended skip. */
  readonly lastDay: number;
}

/** A subscription + exceptions pre-parsed to integers, for evaluating many dates. */
export interface CompiledSchedule {
  readonly sub: ScheduleSubscription;
  readonly exceptions: readonly ScheduleException[];
  /** First epoch day on which anything could be delivered (the start date). */
  readonly firstDay: number;
  /** Last epoch day on which anything could be delivered (end date / day before cancellation); Infinity if unbounded. */
  readonly lastDay: number;
  /** Decision for an epoch day; identical to wouldDeliver(sub, exceptions, fromEpochDay(day)). */
  decideDay(epochDay: number): Decision;
  /** Decision for a LocalDate. */
  decide(date: LocalDate): Decision;
  /** Rule alone, inside the window (= ruleDelivers). */
  ruleDeliversDay(epochDay: number): boolean;
  /** Covering, effective skips of a day (in input order). */
  skipsOn(epochDay: number): ScheduleException[];
}

/**
 * Compiles a schedule for repeated evaluation. The result is a snapshot: mutate the subscription or
 * an exception (e.g. set endedAt) and you must compile again. Throws RangeError for invalid dates
 * in the subscription or exceptions, or a malformed recurrence.
 */
export function compileSchedule(sub: ScheduleSubscription, exceptions: readonly ScheduleException[]): CompiledSchedule {
  const startDay = toEpochDay(sub.startDate);
  let lastDay = sub.endDate != null ? toEpochDay(sub.endDate) : Infinity;
  if (sub.cancelledFrom != null) lastDay = Math.min(lastDay, toEpochDay(sub.cancelledFrom) - 1);
  else if (sub.status === 'cancelled') lastDay = -Infinity;
  const rule: CompiledRecurrence = compileRecurrence(sub.recurrence, startDay);
  const compiled: CompiledException[] = [];
  for (const ex of exceptions) {
    const fromDay = toEpochDay(ex.from);
    const to = nominalTo(ex);
    let exLast = to === null ? Infinity : toEpochDay(to);
    if (ex.endedAt != null) exLast = Math.min(exLast, toEpochDay(ex.endedAt) - 1);
    if (!isEffectiveException(ex) || exLast < fromDay) continue;
    compiled.push({ ex, fromDay, lastDay: exLast });
  }
  const n = compiled.length;

  function inWindow(day: number): boolean {
    return day >= startDay && day <= lastDay;
  }

  function decideDay(day: number): Decision {
    const date = fromEpochDay(day);
    if (!inWindow(day)) {
      return windowDecision(
        sub,
        date,
        day < startDay ? 'before_start' : sub.endDate != null && day > toEpochDay(sub.endDate) ? 'after_end' : 'cancelled',
      );
    }
    const ruleDay = rule.matches(day);
    const covering = new Covering();
    for (let i = 0; i < n; i++) {
      const c = compiled[i];
      if (day >= c.fromDay && day <= c.lastDay) covering.add(c.ex);
    }
    return combine(sub, date, ruleDay, covering);
  }

  return {
    sub,
    exceptions,
    firstDay: startDay,
    lastDay,
    decideDay,
    decide: (date) => decideDay(toEpochDay(date)),
    ruleDeliversDay: (day) => inWindow(day) && rule.matches(day),
    skipsOn: (day) => compiled.filter((c) => c.ex.type === 'skip' && day >= c.fromDay && day <= c.lastDay).map((c) => c.ex),
  };
}
