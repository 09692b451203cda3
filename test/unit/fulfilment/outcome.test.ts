import fc from 'fast-check';
import {
  FAILURE_REASONS,
  SCHEDULED,
  compareOutcomes,
  decideOutcome,
  type FailureReason,
  type OutcomeReport,
  type OutcomeState,
} from '../../../domain/fulfilment';

const day = { date: '2026-12-05', timezone: 'Asia/Kolkata' };
const START = Date.parse('2026-12-04T18:30:00Z'); // 00:00 IST on the 5th
const END = Date.parse('2026-12-05T18:30:00Z');
const NOW = Date.parse('2026-12-06T10:00:00Z'); // the phone syncs the next day
const at = (hhmm: string) => Date.parse(`2026-12-05T${hhmm}:00+05:30`);

const delivered = (time: string, source: 'staff' | 'ops' = 'staff'): OutcomeReport => ({
  outcome: 'delivered',
  reason: null,
  atMs: at(time),
  source,
});
const failed = (reason: FailureReason, time: string, source: 'staff' | 'ops' = 'staff'): OutcomeReport => ({
  outcome: 'failed',
  reason,
  atMs: at(time),
  source,
});

function apply(state: OutcomeState, report: OutcomeReport): OutcomeState {
  const d = decideOutcome(state, report, day, NOW);
  return d.result === 'applied' ? d.next : state;
}

describe('a report on a delivery nobody reported yet', () => {
  test('applies, from scheduled and from unconfirmed', () => {
    expect(decideOutcome(SCHEDULED, delivered('07:10'), day, NOW)).toEqual({
      result: 'applied',
      next: { status: 'delivered', reason: null, atMs: at('07:10'), source: 'staff' },
    });
    const unconfirmed: OutcomeState = { status: 'unconfirmed', reason: null, atMs: null, source: 'system' };
    expect(decideOutcome(unconfirmed, failed('not_home', '06:40'), day, NOW)).toMatchObject({ result: 'applied' });
  });

  test.each([
    ['a failure without a reason', { outcome: 'failed', reason: null, atMs: at('07:00'), source: 'staff' }, 'reason_required'],
    ['a delivery with a reason', { outcome: 'delivered', reason: 'other', atMs: at('07:00'), source: 'staff' }, 'reason_not_allowed'],
    ['a time the day before', { outcome: 'delivered', reason: null, atMs: START - 1, source: 'staff' }, 'at_outside_day'],
    ['a time the day after', { outcome: 'delivered', reason: null, atMs: END, source: 'staff' }, 'at_outside_day'],
    ['a time that is not a time', { outcome: 'delivered', reason: null, atMs: NaN, source: 'staff' }, 'at_outside_day'],
  ] as const)('is refused for %s', (_what, report, code) => {
    expect(decideOutcome(SCHEDULED, report as OutcomeReport, day, NOW)).toMatchObject({ result: 'rejected', kind: 'invalid', code });
  });

  test('accepts the first and last instant of the day, and refuses one in the future', () => {
    expect(decideOutcome(SCHEDULED, { ...delivered('00:00'), atMs: START }, day, NOW).result).toBe('applied');
    expect(decideOutcome(SCHEDULED, { ...delivered('00:00'), atMs: END - 1 }, day, NOW).result).toBe('applied');
    const morning = at('08:00');
    expect(decideOutcome(SCHEDULED, delivered('09:00'), day, morning)).toMatchObject({ result: 'rejected', code: 'at_in_future' });
    // A phone clock a little ahead is tolerated.
    expect(decideOutcome(SCHEDULED, delivered('08:04'), day, morning).result).toBe('applied');
  });
});

describe('a report on a reported delivery', () => {
  const reported = apply(SCHEDULED, failed('not_home', '07:00'));

  test('the same report again is a duplicate', () => {
    expect(decideOutcome(reported, failed('not_home', '07:00'), day, NOW)).toEqual({ result: 'duplicate' });
  });

  test('a later one applies, an earlier one is superseded', () => {
    expect(decideOutcome(reported, delivered('09:30'), day, NOW)).toMatchObject({ result: 'applied', next: { status: 'delivered' } });
    expect(decideOutcome(reported, delivered('06:30'), day, NOW)).toEqual({ result: 'superseded' });
    expect(decideOutcome(reported, failed('not_home', '08:00'), day, NOW)).toMatchObject({
      result: 'applied',
      next: { atMs: at('08:00') },
    });
  });

  test('at the same instant a delivery outranks a failure, and failures go by reason', () => {
    expect(decideOutcome(reported, delivered('07:00'), day, NOW).result).toBe('applied');
    const delivered7 = apply(SCHEDULED, delivered('07:00'));
    expect(decideOutcome(delivered7, failed('not_home', '07:00'), day, NOW).result).toBe('superseded');
    expect(
      compareOutcomes({ status: 'failed', reason: 'refused', atMs: 1 }, { status: 'failed', reason: 'not_home', atMs: 1 }),
    ).toBeGreaterThan(0);
  });
});

describe('ops corrections', () => {
  const reported = apply(SCHEDULED, failed('out_of_stock', '07:00'));

  test('apply whatever the field said, and then the field cannot change the delivery', () => {
    const corrected = apply(reported, delivered('07:00', 'ops'));
    expect(corrected).toEqual({ status: 'delivered', reason: null, atMs: at('07:00'), source: 'ops' });
    expect(decideOutcome(corrected, failed('not_home', '11:00'), day, NOW)).toMatchObject({
      result: 'rejected',
      kind: 'conflict',
      code: 'corrected_by_ops',
    });
    // The field repeating exactly what ops decided is only a duplicate.
    expect(decideOutcome(corrected, delivered('07:00'), day, NOW)).toEqual({ result: 'duplicate' });
  });

  test('a correction saying what the delivery already says is a duplicate; an earlier time still applies', () => {
    expect(decideOutcome(reported, failed('out_of_stock', '07:00', 'ops'), day, NOW)).toEqual({ result: 'duplicate' });
    expect(decideOutcome(reported, failed('out_of_stock', '06:00', 'ops'), day, NOW).result).toBe('applied');
  });

  test('are held to the same day bounds', () => {
    expect(decideOutcome(reported, { ...delivered('07:00', 'ops'), atMs: END }, day, NOW)).toMatchObject({ code: 'at_outside_day' });
  });
});

describe('reports from the field, in any order, any number of times', () => {
  const reportArb: fc.Arbitrary<OutcomeReport> = fc
    .record({
      outcome: fc.constantFrom('delivered' as const, 'failed' as const),
      reason: fc.constantFrom(...FAILURE_REASONS),
      // A handful of instants so that ties happen.
      atMs: fc.constantFrom(at('06:00'), at('07:00'), at('07:00'), at('09:30'), at('23:59')),
      source: fc.constant('staff' as const),
    })
    .map((r) => (r.outcome === 'delivered' ? { ...r, reason: null } : r));

  test('end in the same state whatever the order: the report that happened last', () => {
    fc.assert(
      fc.property(
        fc
          .array(reportArb, { minLength: 1, maxLength: 8 })
          .chain((rs) => fc.tuple(fc.constant(rs), fc.shuffledSubarray(rs, { minLength: rs.length }))),
        ([reports, shuffled]) => {
          const a = reports.reduce(apply, SCHEDULED);
          const b = shuffled.reduce(apply, SCHEDULED);
          expect(b).toEqual(a);
          const last = [...reports].sort((x, y) => compareOutcomes({ ...x, status: x.outcome }, { ...y, status: y.outcome })).pop()!;
          expect(a).toEqual({ status: last.outcome, reason: last.reason, atMs: last.atMs, source: 'staff' });
        },
      ),
    );
  });

  test('a report sent again after it was applied is never applied a second time', () => {
    fc.assert(
      fc.property(fc.array(reportArb, { minLength: 1, maxLength: 8 }), (reports) => {
        let state = SCHEDULED;
        for (const r of reports) {
          state = apply(state, r);
          expect(decideOutcome(state, r, day, NOW).result).not.toBe('applied');
        }
      }),
    );
  });
});
