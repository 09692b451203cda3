import {
  addDays,
  compileSchedule,
  ruleDelivers,
  toEpochDay,
  validateRecurrence,
  validateRecurrenceRequest,
  wouldDeliver,
  type Recurrence,
  type ScheduleSubscription,
} from '../../../domain/schedule';

function sub(recurrence: Recurrence, over: Partial<ScheduleSubscription> = {}): ScheduleSubscription {
  return { id: 'S1', startDate: '2020-01-01', endDate: null, recurrence, quantity: 1, timezone: 'Asia/Kolkata', status: 'active', ...over };
}

/** Dates in [from, to] the rule delivers on. */
function ruleDates(s: ScheduleSubscription, from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) if (ruleDelivers(s, d)) out.push(d);
  return out;
}

describe('daily', () => {
  test.each(['2026-01-01', '2024-02-29', '2100-02-28', '2026-12-31'])('delivers on %s', (d) => {
    expect(ruleDelivers(sub({ kind: 'daily' }), d)).toBe(true);
  });
});

describe('every_n_days is anchored on the start date', () => {
  test.each([
    [2, '2026-01-01', '2026-01-01', true],
    [2, '2026-01-01', '2026-01-02', false],
    [2, '2026-01-01', '2026-01-03', true],
    [2, '2026-01-02', '2026-01-03', false],
    [2, '2026-01-02', '2026-01-04', true],
    [3, '2026-01-31', '2026-02-03', true],
    [3, '2026-01-31', '2026-02-02', false],
    [3, '2024-02-27', '2024-03-01', true], // across 2024-02-29
    [3, '2026-02-27', '2026-03-02', true], // across a non-leap February
    [3, '2026-02-27', '2026-03-01', false],
    [7, '2026-01-01', '2026-01-08', true],
    [7, '2026-01-01', '2026-12-31', true], // 364 days later
    [7, '2026-01-01', '2027-01-01', false],
    [1, '2026-01-01', '2026-05-17', true],
    [10, '2025-12-31', '2026-01-10', true],
    [10, '2025-12-31', '2026-01-01', false],
  ])('n=%i from %s: %s → %s', (n, start, date, expected) => {
    expect(ruleDelivers(sub({ kind: 'every_n_days', n }, { startDate: start }), date)).toBe(expected);
  });

  test('moving the start date by one day shifts the whole pattern', () => {
    const a = ruleDates(sub({ kind: 'every_n_days', n: 2 }, { startDate: '2026-01-01' }), '2026-01-01', '2026-01-10');
    const b = ruleDates(sub({ kind: 'every_n_days', n: 2 }, { startDate: '2026-01-02' }), '2026-01-01', '2026-01-10');
    expect(a).toEqual(['2026-01-01', '2026-01-03', '2026-01-05', '2026-01-07', '2026-01-09']);
    expect(b).toEqual(['2026-01-02', '2026-01-04', '2026-01-06', '2026-01-08', '2026-01-10']);
  });
});

describe('days_of_week (ISO 1=Mon..7=Sun)', () => {
  test.each([
    [[1], '2026-08-10', true], // Monday
    [[1], '2026-08-11', false],
    [[3], '2026-08-12', true], // Wednesday
    [[5], '2026-08-14', true], // Friday
    [[7], '2026-08-16', true], // Sunday
    [[7], '2026-08-15', false], // Saturday
    [[6, 7], '2026-08-15', true],
    [[1, 3, 5], '2026-03-01', false], // Sunday
    [[1, 3, 5], '2026-03-02', true],
    [[4], '2024-02-29', true], // Thursday
    [[1], '2100-03-01', true], // Monday (2100 not leap)
    [[7], '2100-02-28', true], // Sunday
  ])('%j on %s → %s', (days, date, expected) => {
    expect(ruleDelivers(sub({ kind: 'days_of_week', days }), date)).toBe(expected);
  });

  test('Mon/Wed/Fri over two weeks', () => {
    expect(ruleDates(sub({ kind: 'days_of_week', days: [1, 3, 5] }), '2026-08-10', '2026-08-23')).toEqual([
      '2026-08-10',
      '2026-08-12',
      '2026-08-14',
      '2026-08-17',
      '2026-08-19',
      '2026-08-21',
    ]);
  });
});

describe('days_of_month', () => {
  test.each<[(number | 'last')[], string, boolean]>([
    // the 31st rule: the month's last day in short months, never the 1st of the next month
    [[31], '2026-01-31', true],
    [[31], '2026-04-30', true],
    [[31], '2026-04-29', false],
    [[31], '2026-05-01', false],
    [[31], '2026-02-28', true],
    [[31], '2026-03-01', false],
    [[31], '2024-02-29', true],
    [[31], '2024-02-28', false],
    [[31], '2100-02-28', true],
    [[30], '2026-02-28', true],
    [[30], '2026-04-30', true],
    [[30], '2026-05-30', true],
    [[30], '2026-05-31', false],
    [[29], '2026-02-28', true],
    [[29], '2024-02-28', false],
    [[29], '2024-02-29', true],
    [[29], '2100-02-28', true],
    [[28], '2024-02-28', true],
    [[28], '2024-02-29', false],
    [['last'], '2026-02-28', true],
    [['last'], '2024-02-29', true],
    [['last'], '2024-02-28', false],
    [['last'], '2026-06-30', true],
    [['last'], '2026-07-30', false],
    [['last'], '2026-07-31', true],
    [[1, 15], '2026-08-01', true],
    [[1, 15], '2026-08-15', true],
    [[1, 15], '2026-08-16', false],
    [[1], '2026-03-01', true],
  ])('%j on %s → %s', (days, date, expected) => {
    expect(ruleDelivers(sub({ kind: 'days_of_month', days }), date)).toBe(expected);
  });

  test.each([
    ['2026-02-01', '2026-02-28', ['2026-02-28']],
    ['2024-02-01', '2024-02-29', ['2024-02-29']],
    ['2026-04-01', '2026-04-30', ['2026-04-29', '2026-04-30']],
    ['2026-05-01', '2026-05-31', ['2026-05-29', '2026-05-30', '2026-05-31']],
  ])('29, 30, 31 and last collapse in %s..%s', (from, to, expected) => {
    const s = sub({ kind: 'days_of_month', days: [29, 30, 31, 'last', 31] });
    expect(ruleDates(s, from, to)).toEqual(expected);
    // one delivery of the base quantity per date (duplicates collapse)
    for (const d of expected) expect(wouldDeliver(s, [], d).quantity).toBe(1);
  });

  test('the 31st rule over a year gives exactly 12 deliveries, one per month', () => {
    const dates = ruleDates(sub({ kind: 'days_of_month', days: [31] }), '2026-01-01', '2026-12-31');
    expect(dates).toEqual([
      '2026-01-31',
      '2026-02-28',
      '2026-03-31',
      '2026-04-30',
      '2026-05-31',
      '2026-06-30',
      '2026-07-31',
      '2026-08-31',
      '2026-09-30',
      '2026-10-31',
      '2026-11-30',
      '2026-12-31',
    ]);
  });
});

describe('window: start, end and cancellation', () => {
  const base = sub({ kind: 'daily' }, { startDate: '2026-08-10', endDate: '2026-08-20' });
  test.each([
    ['2026-08-09', false],
    ['2026-08-10', true],
    ['2026-08-20', true],
    ['2026-08-21', false],
  ])('start 08-10, end 08-20: %s → %s', (d, expected) => {
    expect(ruleDelivers(base, d)).toBe(expected);
  });

  test.each([
    ['2026-08-14', true],
    ['2026-08-15', false],
    ['2026-09-01', false],
  ])('scheduled cancellation from 08-15 on an active subscription: %s → %s', (d, expected) => {
    expect(ruleDelivers({ ...base, cancelledFrom: '2026-08-15' }, d)).toBe(expected);
  });

  test('cancelled without cancelledFrom delivers nowhere', () => {
    const c = { ...base, status: 'cancelled' as const };
    expect(ruleDates(c, '2026-08-01', '2026-08-31')).toEqual([]);
  });

  test('ruleDelivers rejects invalid dates', () => {
    expect(() => ruleDelivers(base, '2026-08-32')).toThrow(RangeError);
  });
});

describe('validateRecurrence and malformed rules', () => {
  test.each([
    [{ kind: 'daily' }, []],
    [{ kind: 'every_n_days', n: 3 }, []],
    [{ kind: 'every_n_days', n: 0 }, ['every_n_days_invalid_n']],
    [{ kind: 'every_n_days', n: 1.5 }, ['every_n_days_invalid_n']],
    [{ kind: 'days_of_week', days: [] }, ['days_of_week_empty']],
    [{ kind: 'days_of_week', days: [0] }, ['days_of_week_invalid_day']],
    [{ kind: 'days_of_week', days: [8] }, ['days_of_week_invalid_day']],
    [{ kind: 'days_of_month', days: [0] }, ['days_of_month_invalid_day']],
    [{ kind: 'days_of_month', days: [32] }, ['days_of_month_invalid_day']],
    [{ kind: 'days_of_month', days: ['last', 1] }, []],
    [{ kind: 'weekly' }, ['recurrence_unknown_kind']],
  ])('%j → %j', (r, errors) => {
    expect(validateRecurrence(r as Recurrence)).toEqual(errors);
  });

  test('malformed rules throw instead of silently delivering', () => {
    expect(() => ruleDelivers(sub({ kind: 'every_n_days', n: 0 }), '2026-01-01')).toThrow(RangeError);
    expect(() => ruleDelivers(sub({ kind: 'days_of_month', days: [40] }), '2026-01-31')).toThrow(RangeError);
    expect(() => compileSchedule(sub({ kind: 'days_of_week', days: [9] }), [])).toThrow(RangeError);
  });
});

describe('validateRecurrenceRequest: a new rule names each day once', () => {
  test.each<[Recurrence, string[]]>([
    [{ kind: 'days_of_week', days: [1, 1, 1] }, ['days_of_week_duplicate_day']],
    [{ kind: 'days_of_week', days: [1, 3, 5, 3] }, ['days_of_week_duplicate_day']],
    [{ kind: 'days_of_week', days: [1, 2, 3, 4, 5, 6, 7] }, []],
    [{ kind: 'days_of_month', days: [15, 15] }, ['days_of_month_duplicate_day']],
    [{ kind: 'days_of_month', days: ['last', 'last'] }, ['days_of_month_duplicate_day']],
    // Distinct values that land on one date in a short month are a rule, not a duplicate.
    [{ kind: 'days_of_month', days: [30, 31, 'last'] }, []],
    [{ kind: 'days_of_week', days: [9, 9] }, ['days_of_week_invalid_day']],
    [{ kind: 'daily' }, []],
    [{ kind: 'every_n_days', n: 3 }, []],
  ])('%j → %j', (r, errors) => {
    expect(validateRecurrenceRequest(r)).toEqual(errors);
  });

  test('stored rules with repeats (written before the rule) still evaluate, once per date', () => {
    const s = sub({ kind: 'days_of_week', days: [1, 1, 1] });
    expect(validateRecurrence(s.recurrence)).toEqual([]);
    expect(ruleDates(s, '2026-08-10', '2026-08-23')).toEqual(['2026-08-10', '2026-08-17']);
    expect(compileSchedule(s, []).decide('2026-08-17')).toMatchObject({ deliver: true, quantity: 1 });
  });
});

describe('the compiled evaluator agrees with ruleDelivers', () => {
  const rules: Recurrence[] = [
    { kind: 'daily' },
    { kind: 'every_n_days', n: 3 },
    { kind: 'every_n_days', n: 5 },
    { kind: 'days_of_week', days: [2, 6] },
    { kind: 'days_of_month', days: [31] },
    { kind: 'days_of_month', days: [29] },
    { kind: 'days_of_month', days: [1, 15, 'last'] },
    { kind: 'days_of_month', days: [30, 28] },
  ];
  test.each(rules.map((r) => [JSON.stringify(r), r] as const))('%s over 2023-12..2025-03 and 2099-12..2100-03', (_name, r) => {
    const s = sub(r, { startDate: '2023-12-05', endDate: '2100-12-31' });
    const compiled = compileSchedule(s, []);
    for (const [from, to] of [
      ['2023-12-01', '2025-03-31'],
      ['2099-12-01', '2100-03-31'],
    ]) {
      for (let d = from; d <= to; d = addDays(d, 1)) {
        expect(compiled.ruleDeliversDay(toEpochDay(d))).toBe(ruleDelivers(s, d));
      }
    }
  });
});
