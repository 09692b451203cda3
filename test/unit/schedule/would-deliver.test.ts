import {
  addDays,
  compileSchedule,
  wouldDeliver,
  type Recurrence,
  type ScheduleException,
  type ScheduleSubscription,
} from '../../../domain/schedule';

function sub(over: Partial<ScheduleSubscription> = {}, recurrence: Recurrence = { kind: 'daily' }): ScheduleSubscription {
  return { id: 'S1', startDate: '2026-08-01', endDate: null, recurrence, quantity: 2, timezone: 'Asia/Kolkata', status: 'active', ...over };
}

let seq = 0;
function ex(over: Partial<ScheduleException> & Pick<ScheduleException, 'type' | 'from'>): ScheduleException {
  seq++;
  return {
    id: `E${seq}`,
    to: over.from,
    reason: 'vacation',
    createdBy: 'customer-7',
    createdAt: `2026-08-03T0${seq % 10}:00:00Z`,
    ...over,
  };
}
const skip = (from: string, to: string | null, over: Partial<ScheduleException> = {}) => ex({ type: 'skip', from, to, ...over });
const extra = (date: string, quantity: number, over: Partial<ScheduleException> = {}) =>
  ex({ type: 'deliver_extra', from: date, to: date, quantity, reason: 'special_request', ...over });
const change = (from: string, to: string, quantity: number, over: Partial<ScheduleException> = {}) =>
  ex({ type: 'change_quantity', from, to, quantity, reason: 'special_request', ...over });

/** wouldDeliver and the compiled evaluator must agree on every decision. */
function decide(s: ScheduleSubscription, exceptions: ScheduleException[], date: string) {
  const d = wouldDeliver(s, exceptions, date);
  expect(compileSchedule(s, exceptions).decide(date)).toEqual(d);
  return d;
}
function summary(s: ScheduleSubscription, exceptions: ScheduleException[], date: string): [boolean, number, string] {
  const d = decide(s, exceptions, date);
  return [d.deliver, d.quantity, d.reason];
}

describe('rule-only decisions', () => {
  const s = sub({ startDate: '2026-08-10', endDate: '2026-08-20' }, { kind: 'every_n_days', n: 2 });
  test.each([
    ['2026-08-09', false, 0, 'before_start'],
    ['2026-08-10', true, 2, 'rule'],
    ['2026-08-11', false, 0, 'not_in_rule'],
    ['2026-08-20', true, 2, 'rule'],
    ['2026-08-21', false, 0, 'after_end'],
    ['2027-01-01', false, 0, 'after_end'],
    ['2025-01-01', false, 0, 'before_start'],
  ])('%s → deliver=%s qty=%i %s', (date, deliver, qty, reason) => {
    expect(summary(s, [], date)).toEqual([deliver, qty, reason]);
    expect(decide(s, [], date).decidedBy).toEqual({ kind: 'rule' });
  });

  test('explanations name the rule', () => {
    expect(decide(s, [], '2026-08-10').explanation).toBe('deliver 2: rule every 2 days from 2026-08-10');
    expect(decide(s, [], '2026-08-11').explanation).toBe('no delivery: not a delivery day under the rule every 2 days from 2026-08-10');
    expect(decide(s, [], '2026-08-09').explanation).toBe('no delivery: before the subscription starts on 2026-08-10');
    expect(decide(s, [], '2026-08-21').explanation).toBe('no delivery: after the subscription ended on 2026-08-20');
  });

  test('invalid date throws', () => {
    expect(() => wouldDeliver(s, [], '2026-02-29')).toThrow(RangeError);
  });
});

describe('vacation skip, explanation and provenance', () => {
  const s = sub();
  const vacation: ScheduleException = {
    id: 'E45',
    type: 'skip',
    from: '2026-08-12',
    to: '2026-08-20',
    reason: 'vacation',
    createdBy: 'customer-7',
    createdAt: '2026-08-03T04:30:00Z',
  };
  test.each([
    ['2026-08-11', true, 'rule'],
    ['2026-08-12', false, 'skipped'],
    ['2026-08-16', false, 'skipped'],
    ['2026-08-20', false, 'skipped'],
    ['2026-08-21', true, 'rule'],
  ])('%s → deliver=%s (%s)', (date, deliver, reason) => {
    const d = decide(s, [vacation], date);
    expect([d.deliver, d.reason]).toEqual([deliver, reason]);
  });

  test('the decision names the exception and explains it for support', () => {
    const d = decide(s, [vacation], '2026-08-14');
    expect(d.decidedBy).toEqual({ kind: 'exception', exception: vacation });
    expect(d.quantity).toBe(0);
    expect(d.explanation).toBe("no delivery: exception E45 'vacation' 2026-08-12–2026-08-20, created by customer-7 on 2026-08-03");
  });

  test('creation date is shown in the subscription timezone', () => {
    const late = { ...vacation, createdAt: '2026-08-02T20:00:00Z' }; // 2026-08-03 01:30 IST
    expect(decide(s, [late], '2026-08-14').explanation).toContain('on 2026-08-03');
    expect(decide({ ...s, timezone: 'America/New_York' }, [late], '2026-08-14').explanation).toContain('on 2026-08-02');
  });

  test('skip on a non-rule day changes nothing', () => {
    const mwf = sub({}, { kind: 'days_of_week', days: [1, 3, 5] });
    expect(summary(mwf, [skip('2026-08-11', '2026-08-11')], '2026-08-11')).toEqual([false, 0, 'not_in_rule']);
    expect(decide(mwf, [skip('2026-08-11', '2026-08-11')], '2026-08-11').decidedBy).toEqual({ kind: 'rule' });
  });
});

describe('overlapping and nested pauses; ending one early', () => {
  const s = sub();
  const outer = skip('2026-08-10', '2026-08-25', { id: 'OUT', createdAt: '2026-08-01T00:00:00Z' });
  const inner = skip('2026-08-14', '2026-08-16', { id: 'IN', createdAt: '2026-08-02T00:00:00Z' });
  const overlap = skip('2026-08-20', '2026-08-30', { id: 'OV', createdAt: '2026-08-02T00:00:00Z' });

  test.each([
    ['2026-08-09', true, 'rule'],
    ['2026-08-10', false, 'OUT'],
    ['2026-08-14', false, 'IN'], // newest covering skip is named
    ['2026-08-17', false, 'OUT'],
    ['2026-08-20', false, 'OV'],
    ['2026-08-25', false, 'OV'],
    ['2026-08-26', false, 'OV'],
    ['2026-08-30', false, 'OV'],
    ['2026-08-31', true, 'rule'],
  ])('%s → deliver=%s decided by %s', (date, deliver, by) => {
    const d = decide(s, [outer, inner, overlap], date);
    expect(d.deliver).toBe(deliver);
    expect(d.decidedBy.kind === 'exception' ? d.decidedBy.exception.id : 'rule').toBe(by);
  });

  test('explanation mentions the other overlapping skips', () => {
    expect(decide(s, [outer, inner], '2026-08-15').explanation).toMatch(/exception IN .*\(and 1 other overlapping skip\)$/);
  });

  test.each([
    // ending the outer pause on 08-18 leaves the overlapping pause in force
    ['2026-08-17', false],
    ['2026-08-18', true],
    ['2026-08-19', true],
    ['2026-08-20', false],
    ['2026-08-25', false],
    ['2026-08-14', false],
  ])('outer ended from 08-18: %s → deliver=%s', (date, deliver) => {
    const ended = { ...outer, endedAt: '2026-08-18' };
    expect(decide(s, [ended, inner, overlap], date).deliver).toBe(deliver);
  });

  test('two identical overlapping skips: ending one leaves the other in force', () => {
    const a = skip('2026-08-12', '2026-08-20', { id: 'A' });
    const b = skip('2026-08-12', '2026-08-20', { id: 'B' });
    for (let d = '2026-08-12'; d <= '2026-08-20'; d = addDays(d, 1)) {
      const r = decide(s, [{ ...a, endedAt: '2026-08-12' }, b], d);
      expect(r.deliver).toBe(false);
      expect(r.decidedBy).toEqual({ kind: 'exception', exception: b });
    }
  });

  test.each([
    [null, '2026-08-12', '2026-08-12', true], // endedAt == from: never applies
    [null, '2026-08-15', '2026-08-14', false],
    [null, '2026-08-15', '2026-08-15', true],
    ['2026-08-20', '2026-08-19', '2026-08-18', false], // last effective day is endedAt − 1
    ['2026-08-20', '2026-08-19', '2026-08-19', true],
    ['2026-08-20', '2026-09-30', '2026-08-20', false], // endedAt after to: to wins
    ['2026-08-20', '2026-09-30', '2026-08-21', true],
  ])('endedAt semantics: to=%s endedAt=%s, %s → deliver=%s', (to, endedAt, date, deliver) => {
    const e = skip('2026-08-12', to, { endedAt });
    expect(decide(s, [e], date).deliver).toBe(deliver);
  });

  test('ended exception explanation shows the early end', () => {
    const e = skip('2026-08-12', '2026-08-20', { id: 'E9', endedAt: '2026-08-18' });
    expect(decide(s, [e], '2026-08-17').explanation).toContain('2026-08-12–2026-08-20 (ended from 2026-08-18)');
  });
});

describe('open-ended payment_failure pause', () => {
  const s = sub();
  const pf = skip('2026-09-01', null, { id: 'PF1', reason: 'payment_failure', createdBy: 'system' });
  test.each([
    ['2026-08-31', true],
    ['2026-09-01', false],
    ['2027-09-01', false],
    ['2030-01-01', false],
  ])('open: %s → deliver=%s', (date, deliver) => {
    expect(decide(s, [pf], date).deliver).toBe(deliver);
  });

  test.each([
    ['2026-09-01', false],
    ['2026-09-09', false],
    ['2026-09-10', true],
    ['2027-01-01', true],
  ])('ended from 2026-09-10 (payment succeeded): %s → deliver=%s', (date, deliver) => {
    expect(decide(s, [{ ...pf, endedAt: '2026-09-10' }], date).deliver).toBe(deliver);
  });

  test('explanation says open-ended', () => {
    expect(decide(s, [pf], '2026-09-05').explanation).toBe(
      "no delivery: exception PF1 'payment_failure' 2026-09-01–open-ended, created by system on 2026-08-03",
    );
  });
});

describe('extras', () => {
  const mwf = sub({}, { kind: 'days_of_week', days: [1, 3, 5] }); // 08-10 Mon, 08-11 Tue, 08-12 Wed
  const vacation = skip('2026-08-12', '2026-08-20', { id: 'E45' });

  test.each([
    // extra on a rule day: base + extra
    [[extra('2026-08-10', 1)], '2026-08-10', [true, 3, 'extra']],
    // extra on a non-rule day: just the extra
    [[extra('2026-08-11', 1)], '2026-08-11', [true, 1, 'extra']],
    // multiple extras add up
    [[extra('2026-08-11', 1), extra('2026-08-11', 4)], '2026-08-11', [true, 5, 'extra']],
    [[extra('2026-08-10', 1), extra('2026-08-10', 4)], '2026-08-10', [true, 7, 'extra']],
    // extra on a skipped (paused) rule day: the explicit extra wins, only the extra quantity
    [[vacation, extra('2026-08-14', 1)], '2026-08-14', [true, 1, 'extra_on_skipped_day']],
    // extra on a paused non-rule day
    [[vacation, extra('2026-08-13', 3)], '2026-08-13', [true, 3, 'extra_on_skipped_day']],
    // extras on a skipped day add up too
    [[vacation, extra('2026-08-14', 1), extra('2026-08-14', 2)], '2026-08-14', [true, 3, 'extra_on_skipped_day']],
    // the rest of the pause is unaffected
    [[vacation, extra('2026-08-14', 1)], '2026-08-17', [false, 0, 'skipped']],
    // an extra over a range applies on each day
    [[extra('2026-08-10', 1, { to: '2026-08-12' })], '2026-08-11', [true, 1, 'extra']],
    // extras are ignored outside the window
    [[extra('2026-07-31', 5)], '2026-07-31', [false, 0, 'before_start']],
    // ended extra
    [[extra('2026-08-11', 1, { endedAt: '2026-08-11' })], '2026-08-11', [false, 0, 'not_in_rule']],
  ])('%#: %j on %s', (exceptions, date, expected) => {
    expect(summary(mwf, exceptions as ScheduleException[], date as string)).toEqual(expected);
  });

  test('paneer on the 14th during a 12–20 pause is decided by the extra, explained with both', () => {
    const paneer = extra('2026-08-14', 1, { id: 'X1', createdBy: 'customer-7' });
    const d = decide(mwf, [vacation, paneer], '2026-08-14');
    expect(d.decidedBy).toEqual({ kind: 'exception', exception: paneer });
    expect(d.explanation).toContain('exception X1');
    expect(d.explanation).toContain('paused by exception E45');
  });

  test('extras are ignored after cancellation', () => {
    const c = { ...mwf, cancelledFrom: '2026-08-11' };
    expect(summary(c, [extra('2026-08-12', 2)], '2026-08-12')).toEqual([false, 0, 'cancelled']);
    expect(summary(c, [extra('2026-08-10', 2)], '2026-08-10')).toEqual([true, 4, 'extra']);
    expect(summary({ ...mwf, status: 'cancelled' }, [extra('2026-08-10', 2)], '2026-08-10')).toEqual([false, 0, 'cancelled']);
  });

  test('malformed extras (no or non-positive quantity) are ignored', () => {
    expect(summary(mwf, [ex({ type: 'deliver_extra', from: '2026-08-11', to: '2026-08-11' })], '2026-08-11')).toEqual([
      false,
      0,
      'not_in_rule',
    ]);
    expect(summary(mwf, [extra('2026-08-11', 0)], '2026-08-11')).toEqual([false, 0, 'not_in_rule']);
    expect(summary(mwf, [extra('2026-08-11', -2)], '2026-08-11')).toEqual([false, 0, 'not_in_rule']);
  });

  test('an open-ended extra (to=null) is treated as a single day', () => {
    const e = extra('2026-08-11', 1, { to: null });
    expect(summary(mwf, [e], '2026-08-11')).toEqual([true, 1, 'extra']);
    expect(summary(mwf, [e], '2026-08-18')).toEqual([false, 0, 'not_in_rule']);
  });
});

describe('change_quantity', () => {
  const s = sub(); // daily, quantity 2
  const c1 = change('2026-08-10', '2026-08-20', 5, { id: 'C1', createdAt: '2026-08-01T00:00:00Z' });
  const c2 = change('2026-08-15', '2026-08-25', 1, { id: 'C2', createdAt: '2026-08-05T00:00:00Z' });
  const c3same = change('2026-08-15', '2026-08-16', 7, { id: 'C3', createdAt: '2026-08-05T00:00:00Z' });

  test.each([
    [[c1], '2026-08-09', 2, 'rule'],
    [[c1], '2026-08-10', 5, 'quantity_changed'],
    [[c1], '2026-08-20', 5, 'quantity_changed'],
    [[c1], '2026-08-21', 2, 'rule'],
    [[c1, c2], '2026-08-14', 5, 'quantity_changed'],
    [[c1, c2], '2026-08-15', 1, 'quantity_changed'], // c2 is newer
    [[c2, c1], '2026-08-15', 1, 'quantity_changed'], // order of the list does not matter
    [[c1, c2], '2026-08-21', 1, 'quantity_changed'],
    [[c1, c2, c3same], '2026-08-15', 7, 'quantity_changed'], // same createdAt: greater id wins
    [[c3same, c2, c1], '2026-08-16', 7, 'quantity_changed'],
    [[c1, c2, c3same], '2026-08-17', 1, 'quantity_changed'],
    [[{ ...c2, endedAt: '2026-08-15' }, c1], '2026-08-15', 5, 'quantity_changed'], // ending the newer reveals the older
  ])('%#: on %s → %i (%s)', (exceptions, date, qty, reason) => {
    const d = decide(s, exceptions as ScheduleException[], date as string);
    expect([d.deliver, d.quantity, d.reason]).toEqual([true, qty, reason]);
  });

  test('change does not create deliveries on non-rule days', () => {
    const mwf = sub({}, { kind: 'days_of_week', days: [1, 3, 5] });
    expect(summary(mwf, [c1], '2026-08-11')).toEqual([false, 0, 'not_in_rule']);
    expect(summary(mwf, [c1], '2026-08-12')).toEqual([true, 5, 'quantity_changed']);
  });

  test('change + extra on a rule day: changed base plus extras, decided by the extra', () => {
    const x = extra('2026-08-12', 3);
    const d = decide(s, [c1, x], '2026-08-12');
    expect([d.quantity, d.reason]).toEqual([8, 'extra']);
    expect(d.explanation).toContain('quantity changed by exception C1');
  });

  test('change on a skipped day: skip wins, extras on that day are not scaled', () => {
    const v = skip('2026-08-12', '2026-08-13');
    expect(summary(s, [c1, v], '2026-08-12')).toEqual([false, 0, 'skipped']);
    expect(summary(s, [c1, v, extra('2026-08-13', 1)], '2026-08-13')).toEqual([true, 1, 'extra_on_skipped_day']);
  });

  test('decision names the winning change and mentions others', () => {
    const d = decide(s, [c1, c2], '2026-08-16');
    expect(d.decidedBy).toEqual({ kind: 'exception', exception: c2 });
    expect(d.explanation).toMatch(/^deliver 1 \(quantity changed from 2\): exception C2 .*\(and 1 other overlapping quantity change\)$/);
  });
});

describe('cancellation', () => {
  const s = sub({ status: 'cancelled', cancelledFrom: '2026-08-15' });
  test.each([
    ['2026-08-14', true, 'rule'],
    ['2026-08-15', false, 'cancelled'],
    ['2026-12-01', false, 'cancelled'],
    ['2026-07-31', false, 'before_start'],
  ])('%s → deliver=%s %s', (date, deliver, reason) => {
    const d = decide(s, [], date);
    expect([d.deliver, d.reason]).toEqual([deliver, reason]);
  });

  test('explanation gives the cancellation date', () => {
    expect(decide(s, [], '2026-08-20').explanation).toBe('no delivery: subscription cancelled from 2026-08-15');
  });

  test('end date before cancellation: after_end wins after the end', () => {
    const e = sub({ endDate: '2026-08-12', cancelledFrom: '2026-08-20' });
    expect(summary(e, [], '2026-08-13')).toEqual([false, 0, 'after_end']);
    expect(summary(e, [], '2026-08-25')).toEqual([false, 0, 'after_end']);
  });
});

describe('compileSchedule', () => {
  test('rejects invalid exception dates', () => {
    expect(() => compileSchedule(sub(), [skip('2026-02-30', '2026-03-01')])).toThrow(RangeError);
  });

  test('is a snapshot and exposes the window', () => {
    const c = compileSchedule(sub({ endDate: '2026-08-31', cancelledFrom: '2026-08-20' }), []);
    expect(c.lastDay - c.firstDay).toBe(18);
    expect(compileSchedule(sub(), []).lastDay).toBe(Infinity);
  });
});
