/**
 * The loyalty streak: how many scheduled days in a row a subscription was delivered.
 *
 * Each day up to `asOf` counts one of three ways:
 * - extends: a delivery was delivered;
 * - breaks: a delivery failed for a reason the customer caused (credit-policy.ts: the failures that
 *   are not credited — refused, and not home / no access where the area says so), or a rule day was
 *   skipped by a `payment_failure` pause (the customer's payment lapsed);
 * - neither: everything else — a day skipped for a vacation, a holiday, a special request or a
 *   system pause; a delivery that failed through no fault of the customer (out of stock…); one
 *   still `scheduled` or `unconfirmed` (nobody knows yet); a day the rule does not deliver on; a
 *   rule day without a generated delivery (before fulfilment was recorded).
 * A delivery row decides its day whatever the exceptions say (an extra delivered during a
 * payment-failure pause extends the streak). Rows after `asOf` are not counted.
 *
 * Pure, like wouldDeliver: the API computes it from the stored deliveries and exceptions on read.
 */
import { compileSchedule, fromEpochDay, toEpochDay, type LocalDate, type ScheduleException, type ScheduleSubscription } from '../schedule';
import type { DeliveryStatus } from './types';

export interface StreakDelivery {
  date: LocalDate;
  status: DeliveryStatus;
  /** For a failed delivery: whether the customer caused it (decided when it was reported); null otherwise. */
  customerCaused: boolean | null;
}

export interface StreakInput {
  subscription: ScheduleSubscription;
  exceptions: readonly ScheduleException[];
  deliveries: readonly StreakDelivery[];
  /** The last day counted: today in the subscription's time zone. */
  asOf: LocalDate;
}

export type StreakBreakCause = 'customer_failure' | 'payment_failure';

export interface Streak {
  /** Delivered scheduled days since the last break. */
  current: number;
  /** The longest run ever. */
  longest: number;
  /** First delivered day of the current run; null when it is 0. */
  since: LocalDate | null;
  lastDelivered: LocalDate | null;
  /** The most recent day that broke the streak, and why. */
  lastBreak: { date: LocalDate; cause: StreakBreakCause } | null;
}

export type StreakDayEffect = { effect: 'extends' } | { effect: 'breaks'; cause: StreakBreakCause } | { effect: 'neither' };

/** What one stored delivery does to the streak. */
export function deliveryEffect(d: StreakDelivery): StreakDayEffect {
  if (d.status === 'delivered') return { effect: 'extends' };
  if (d.status === 'failed' && d.customerCaused === true) return { effect: 'breaks', cause: 'customer_failure' };
  return { effect: 'neither' };
}

/** Rule days (inside the subscription's life, up to asOf) skipped by a payment-failure pause, without a delivery row. */
function paymentFailureDays(input: StreakInput, asOfDay: number, rowDays: ReadonlySet<number>): number[] {
  const pauses = input.exceptions.filter((e) => e.type === 'skip' && e.reason === 'payment_failure');
  if (pauses.length === 0) return [];
  const schedule = compileSchedule(input.subscription, pauses);
  const days = new Set<number>();
  for (const p of pauses) {
    const first = Math.max(toEpochDay(p.from), schedule.firstDay);
    let last = Math.min(asOfDay, schedule.lastDay, p.to === null ? Infinity : toEpochDay(p.to));
    if (p.endedAt != null) last = Math.min(last, toEpochDay(p.endedAt) - 1);
    for (let day = first; day <= last; day++) {
      if (!rowDays.has(day) && !days.has(day) && schedule.decideDay(day).reason === 'skipped') days.add(day);
    }
  }
  return [...days];
}

export function deliveryStreak(input: StreakInput): Streak {
  const asOfDay = toEpochDay(input.asOf);
  const effects = new Map<number, StreakDayEffect>();
  for (const d of input.deliveries) {
    const day = toEpochDay(d.date);
    if (day <= asOfDay) effects.set(day, deliveryEffect(d));
  }
  for (const day of paymentFailureDays(input, asOfDay, new Set(effects.keys()))) {
    effects.set(day, { effect: 'breaks', cause: 'payment_failure' });
  }
  const streak: Streak = { current: 0, longest: 0, since: null, lastDelivered: null, lastBreak: null };
  for (const day of [...effects.keys()].sort((a, b) => a - b)) {
    const e = effects.get(day)!;
    if (e.effect === 'extends') {
      streak.current += 1;
      if (streak.current === 1) streak.since = fromEpochDay(day);
      streak.longest = Math.max(streak.longest, streak.current);
      streak.lastDelivered = fromEpochDay(day);
    } else if (e.effect === 'breaks') {
      streak.current = 0;
      streak.since = null;
      streak.lastBreak = { date: fromEpochDay(day), cause: e.cause };
    }
  }
  return streak;
}
