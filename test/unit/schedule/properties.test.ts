import fc from 'fast-check';
import {
  addDays,
  compileSchedule,
  fromEpochDay,
  nextDeliveries,
  pausedDaysIn,
  ruleDelivers,
  toEpochDay,
  wouldDeliver,
  type Decision,
  type Recurrence,
  type ScheduleException,
  type ScheduleSubscription,
} from '../../../domain/schedule';

const BASE = toEpochDay('2024-01-01');
const dayArb = (span: number) => fc.integer({ min: 0, max: span }).map((o) => fromEpochDay(BASE + o));

const recurrenceArb: fc.Arbitrary<Recurrence> = fc.oneof(
  fc.constant<Recurrence>({ kind: 'daily' }),
  fc.integer({ min: 1, max: 10 }).map((n): Recurrence => ({ kind: 'every_n_days', n })),
  fc
    .uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 })
    .map((days): Recurrence => ({ kind: 'days_of_week', days })),
  fc
    .array(fc.oneof(fc.integer({ min: 1, max: 31 }), fc.constant<'last'>('last')), { minLength: 1, maxLength: 5 })
    .map((days): Recurrence => ({ kind: 'days_of_month', days })),
);

const subArb: fc.Arbitrary<ScheduleSubscription> = fc
  .record({
    start: dayArb(900),
    endAfter: fc.option(fc.integer({ min: 0, max: 600 }), { nil: null }),
    cancelAfter: fc.option(fc.integer({ min: 0, max: 600 }), { nil: null }),
    cancelled: fc.boolean(),
    recurrence: recurrenceArb,
    quantity: fc.integer({ min: 1, max: 5 }),
  })
  .map(({ start, endAfter, cancelAfter, cancelled, recurrence, quantity }) => ({
    id: 'S',
    startDate: start,
    endDate: endAfter === null ? null : addDays(start, endAfter),
    recurrence,
    quantity,
    timezone: 'Asia/Kolkata',
    status: cancelled && cancelAfter !== null ? ('cancelled' as const) : ('active' as const),
    cancelledFrom: cancelAfter === null ? null : addDays(start, cancelAfter),
  }));

const exceptionArb = (i: number): fc.Arbitrary<ScheduleException> =>
  fc
    .record({
      type: fc.constantFrom<ScheduleException['type']>('skip', 'skip', 'deliver_extra', 'change_quantity'),
      from: dayArb(1200),
      len: fc.option(fc.integer({ min: 0, max: 60 }), { nil: null }),
      endedAfter: fc.option(fc.integer({ min: 0, max: 70 }), { nil: null }),
      quantity: fc.integer({ min: 1, max: 4 }),
      reason: fc.constantFrom('vacation', 'payment_failure', 'holiday', 'system_pause'),
      createdHour: fc.integer({ min: 0, max: 3 }),
    })
    .map(({ type, from, len, endedAfter, quantity, reason, createdHour }) => ({
      id: `E${i}`,
      type,
      from,
      to: len === null && type === 'skip' ? null : addDays(from, len ?? 0),
      quantity: type === 'skip' ? undefined : quantity,
      reason,
      createdBy: 'customer-1',
      createdAt: `2024-01-01T0${createdHour}:00:00Z`,
      endedAt: endedAfter === null ? null : addDays(from, endedAfter),
    }));

const exceptionsArb: fc.Arbitrary<ScheduleException[]> = fc
  .integer({ min: 0, max: 5 })
  .chain((n) => (n === 0 ? fc.constant([]) : fc.tuple(...Array.from({ length: n }, (_, i) => exceptionArb(i)))));

function* datesIn(from: string, to: string): Generator<string> {
  for (let d = toEpochDay(from); d <= toEpochDay(to); d++) yield fromEpochDay(d);
}
const core = (d: Decision) => [d.deliver, d.quantity, d.reason, d.decidedBy.kind === 'rule' ? 'rule' : d.decidedBy.exception.id];

const RUNS = { numRuns: 150 };

describe('schedule properties', () => {
  test('nextDeliveries returns exactly the delivering dates, in order, each agreeing with wouldDeliver', () => {
    fc.assert(
      fc.property(subArb, exceptionsArb, dayArb(1200), fc.integer({ min: 1, max: 12 }), (sub, exceptions, from, n) => {
        const next = nextDeliveries(sub, exceptions, from, n);
        expect(next.length).toBeLessThanOrEqual(n);
        for (const d of next) {
          expect(d.deliver).toBe(true);
          expect(d.quantity).toBeGreaterThan(0);
          expect(wouldDeliver(sub, exceptions, d.date)).toEqual(d);
        }
        // completeness: no delivering date is missed between fromDate and the last one returned
        const until = next.length > 0 ? next[next.length - 1].date : addDays(from, 60);
        const expected = [...datesIn(from, until)].filter((d) => wouldDeliver(sub, exceptions, d).deliver);
        expect(next.map((d) => d.date)).toEqual(expected);
      }),
      RUNS,
    );
  });

  test('wouldDeliver and compileSchedule agree on every date', () => {
    fc.assert(
      fc.property(subArb, exceptionsArb, dayArb(1100), (sub, exceptions, from) => {
        const compiled = compileSchedule(sub, exceptions);
        for (const d of datesIn(from, addDays(from, 90))) expect(compiled.decide(d)).toEqual(wouldDeliver(sub, exceptions, d));
      }),
      { numRuns: 100 },
    );
  });

  test('decisions are well-formed; with no exceptions the rule decides', () => {
    fc.assert(
      fc.property(subArb, exceptionsArb, dayArb(1300), (sub, exceptions, date) => {
        const d = wouldDeliver(sub, exceptions, date);
        expect(d.date).toBe(date);
        expect(d.deliver ? d.quantity > 0 && Number.isInteger(d.quantity) : d.quantity === 0).toBe(true);
        expect(d.explanation.length).toBeGreaterThan(0);
        expect(wouldDeliver(sub, [], date).deliver).toBe(ruleDelivers(sub, date));
      }),
      { numRuns: 400 },
    );
  });

  test('adding a skip never adds deliveries nor increases quantity', () => {
    fc.assert(
      fc.property(subArb, exceptionsArb, exceptionArb(99), dayArb(1100), (sub, exceptions, extraSkip, from) => {
        const s: ScheduleException = { ...extraSkip, type: 'skip', quantity: undefined };
        for (const d of datesIn(from, addDays(from, 60))) {
          const without = wouldDeliver(sub, exceptions, d);
          const withSkip = wouldDeliver(sub, [...exceptions, s], d);
          if (withSkip.deliver) expect(without.deliver).toBe(true);
          expect(withSkip.quantity).toBeLessThanOrEqual(without.quantity);
        }
      }),
      RUNS,
    );
  });

  test('ending an exception never affects dates outside it (nor before its end)', () => {
    fc.assert(
      fc.property(subArb, exceptionsArb, fc.nat(), fc.integer({ min: 0, max: 40 }), (sub, exceptions, pick, endOffset) => {
        fc.pre(exceptions.length > 0);
        const i = pick % exceptions.length;
        const e = exceptions[i];
        // ending shortens: the new end is never later than an existing one
        const candidate = addDays(e.from, endOffset);
        const endedAt = e.endedAt != null && e.endedAt < candidate ? e.endedAt : candidate;
        const ended = exceptions.map((x, j) => (j === i ? { ...x, endedAt } : x));
        const nominalLast = e.to ?? (e.type === 'skip' ? '9999-12-31' : e.from);
        const horizonEnd = e.to ?? e.from;
        for (const d of datesIn(addDays(e.from, -5), addDays(horizonEnd, 130))) {
          const affectedRange = d >= endedAt && d <= nominalLast;
          if (!affectedRange) expect(core(wouldDeliver(sub, ended, d))).toEqual(core(wouldDeliver(sub, exceptions, d)));
        }
        // and ending never makes a skipped rule day stay skipped *because of* the ended exception
        for (const d of datesIn(endedAt, addDays(endedAt, 10))) {
          const dec = wouldDeliver(sub, ended, d);
          if (dec.decidedBy.kind === 'exception') expect(dec.decidedBy.exception.id === e.id && d >= endedAt).toBe(false);
        }
      }),
      RUNS,
    );
  });

  test('pausedDaysIn(all reasons) = rule days decided as skipped (or extra on a skipped day)', () => {
    fc.assert(
      fc.property(subArb, exceptionsArb, dayArb(1100), fc.integer({ min: 0, max: 120 }), (sub, exceptions, from, len) => {
        const to = addDays(from, len);
        const all = ['vacation', 'payment_failure', 'holiday', 'system_pause'];
        let expected = 0;
        for (const d of datesIn(from, to)) {
          const r = wouldDeliver(sub, exceptions, d).reason;
          if (ruleDelivers(sub, d) && (r === 'skipped' || r === 'extra_on_skipped_day')) expected++;
        }
        expect(pausedDaysIn(sub, exceptions, from, to, all)).toBe(expected);
        const vac = pausedDaysIn(sub, exceptions, from, to, ['vacation']);
        const pf = pausedDaysIn(sub, exceptions, from, to, ['payment_failure']);
        expect(vac).toBeLessThanOrEqual(expected);
        expect(pf).toBeLessThanOrEqual(expected);
      }),
      RUNS,
    );
  });
});
