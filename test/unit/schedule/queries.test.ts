import {
  deliveriesBetween,
  nextDeliveries,
  NEXT_DELIVERIES_HORIZON_DAYS,
  pausedDaysIn,
  wouldDeliver,
  type Recurrence,
  type ScheduleException,
  type ScheduleSubscription,
} from '../../../domain/schedule';

function sub(over: Partial<ScheduleSubscription> = {}, recurrence: Recurrence = { kind: 'daily' }): ScheduleSubscription {
  return { id: 'S1', startDate: '2026-08-01', endDate: null, recurrence, quantity: 1, timezone: 'Asia/Kolkata', status: 'active', ...over };
}
let seq = 0;
function ex(type: ScheduleException['type'], from: string, to: string | null, over: Partial<ScheduleException> = {}): ScheduleException {
  seq++;
  return { id: `E${seq}`, type, from, to, reason: 'vacation', createdBy: 'customer-7', createdAt: '2026-08-03T04:30:00Z', ...over };
}
const dates = (ds: { date: string }[]) => ds.map((d) => d.date);
const mwf: Recurrence = { kind: 'days_of_week', days: [1, 3, 5] }; // 2026-08-10 is a Monday

// Titled by the function itself (the same word is also the workflow's query name, written once in its contract).
describe(nextDeliveries.name, () => {
  test.each([
    ['daily', sub(), [], '2026-08-10', 3, ['2026-08-10', '2026-08-11', '2026-08-12']],
    ['fromDate before start', sub(), [], '2026-07-01', 2, ['2026-08-01', '2026-08-02']],
    ['n = 0', sub(), [], '2026-08-10', 0, []],
    ['vacation 12–20', sub(), [ex('skip', '2026-08-12', '2026-08-20')], '2026-08-10', 3, ['2026-08-10', '2026-08-11', '2026-08-21']],
    ['MWF', sub({}, mwf), [], '2026-08-11', 3, ['2026-08-12', '2026-08-14', '2026-08-17']],
    [
      'MWF + extra on Tuesday',
      sub({}, mwf),
      [ex('deliver_extra', '2026-08-11', '2026-08-11', { quantity: 2 })],
      '2026-08-11',
      2,
      ['2026-08-11', '2026-08-12'],
    ],
    [
      'every 3 days, from a non-anchor date',
      sub({ startDate: '2026-08-01' }, { kind: 'every_n_days', n: 3 }),
      [],
      '2026-08-02',
      3,
      ['2026-08-04', '2026-08-07', '2026-08-10'],
    ],
    ['end date stops the search', sub({ endDate: '2026-08-11' }), [], '2026-08-10', 5, ['2026-08-10', '2026-08-11']],
    ['cancellation stops the search', sub({ cancelledFrom: '2026-08-11' }), [], '2026-08-10', 5, ['2026-08-10']],
    [
      '31st rule across short months',
      sub({}, { kind: 'days_of_month', days: [31] }),
      [],
      '2027-01-01',
      4,
      ['2027-01-31', '2027-02-28', '2027-03-31', '2027-04-30'],
    ],
    ['29th in 2028 (leap) February', sub({}, { kind: 'days_of_month', days: [29] }), [], '2028-02-01', 2, ['2028-02-29', '2028-03-29']],
    [
      '29th in 2100 (not leap) February',
      sub({ startDate: '2099-01-01' }, { kind: 'days_of_month', days: [29] }),
      [],
      '2100-02-01',
      2,
      ['2100-02-28', '2100-03-29'],
    ],
  ])('%s', (_name, s, exceptions, from, n, expected) => {
    const r = nextDeliveries(s, exceptions as ScheduleException[], from, n);
    expect(dates(r)).toEqual(expected);
    for (const d of r) expect(d.deliver).toBe(true);
  });

  test('quantities are included', () => {
    const r = nextDeliveries(
      sub({ quantity: 2 }),
      [
        ex('change_quantity', '2026-08-11', '2026-08-11', { quantity: 4 }),
        ex('deliver_extra', '2026-08-12', '2026-08-12', { quantity: 1 }),
      ],
      '2026-08-10',
      3,
    );
    expect(r.map((d) => [d.date, d.quantity, d.reason])).toEqual([
      ['2026-08-10', 2, 'rule'],
      ['2026-08-11', 4, 'quantity_changed'],
      ['2026-08-12', 3, 'extra'],
    ]);
  });

  test('terminates with an open-ended pause, returning only the deliveries before it', () => {
    const pf = ex('skip', '2026-08-12', null, { reason: 'payment_failure' });
    expect(dates(nextDeliveries(sub(), [pf], '2026-08-10', 10))).toEqual(['2026-08-10', '2026-08-11']);
    expect(nextDeliveries(sub(), [pf], '2026-08-12', 10)).toEqual([]);
  });

  test('terminates when everything is skipped for decades', () => {
    expect(nextDeliveries(sub(), [ex('skip', '2026-01-01', '2099-12-31')], '2026-08-10', 1)).toEqual([]);
  });

  test('pause ended early resumes deliveries', () => {
    const pf = ex('skip', '2026-08-12', null, { reason: 'payment_failure', endedAt: '2026-09-03' });
    expect(dates(nextDeliveries(sub(), [pf], '2026-08-12', 2))).toEqual(['2026-09-03', '2026-09-04']);
  });

  test('search horizon is about three years', () => {
    expect(NEXT_DELIVERIES_HORIZON_DAYS).toBeGreaterThanOrEqual(3 * 365);
    const within = ex('skip', '2026-08-10', null, { endedAt: '2029-01-01' });
    const beyond = ex('skip', '2026-08-10', null, { endedAt: '2030-01-01' });
    expect(dates(nextDeliveries(sub(), [within], '2026-08-10', 1))).toEqual(['2029-01-01']);
    expect(nextDeliveries(sub(), [beyond], '2026-08-10', 1)).toEqual([]);
  });
});

describe('deliveriesBetween', () => {
  test.each([
    ['daily, range touching start', sub({ startDate: '2026-08-10' }), [], '2026-08-08', '2026-08-11', ['2026-08-10', '2026-08-11']],
    ['daily, range touching end', sub({ endDate: '2026-08-12' }), [], '2026-08-11', '2026-08-14', ['2026-08-11', '2026-08-12']],
    ['to before from', sub(), [], '2026-08-12', '2026-08-11', []],
    ['single day', sub(), [], '2026-08-12', '2026-08-12', ['2026-08-12']],
    [
      'MWF with a skip and an extra',
      sub({}, mwf),
      [ex('skip', '2026-08-12', '2026-08-14'), ex('deliver_extra', '2026-08-13', '2026-08-13', { quantity: 1 })],
      '2026-08-10',
      '2026-08-17',
      ['2026-08-10', '2026-08-13', '2026-08-17'],
    ],
    [
      'last day of month through a leap year',
      sub({ startDate: '2024-01-01' }, { kind: 'days_of_month', days: ['last'] }),
      [],
      '2024-01-01',
      '2024-04-30',
      ['2024-01-31', '2024-02-29', '2024-03-31', '2024-04-30'],
    ],
    ['cancelled subscription', sub({ status: 'cancelled' }), [], '2026-08-01', '2026-08-31', []],
  ])('%s', (_name, s, exceptions, from, to, expected) => {
    expect(dates(deliveriesBetween(s, exceptions as ScheduleException[], from, to))).toEqual(expected);
  });

  test('31st rule over 2026 yields 12 deliveries', () => {
    expect(
      deliveriesBetween(sub({ startDate: '2026-01-01' }, { kind: 'days_of_month', days: [31] }), [], '2026-01-01', '2026-12-31'),
    ).toHaveLength(12);
  });

  test('each decision equals wouldDeliver for that date', () => {
    const s = sub({}, { kind: 'every_n_days', n: 2 });
    const exceptions = [ex('skip', '2026-08-05', '2026-08-09'), ex('deliver_extra', '2026-08-06', '2026-08-06', { quantity: 2 })];
    for (const d of deliveriesBetween(s, exceptions, '2026-08-01', '2026-08-31')) expect(d).toEqual(wouldDeliver(s, exceptions, d.date));
  });
});

describe('pausedDaysIn', () => {
  const vacation = ex('skip', '2026-08-12', '2026-08-20', { reason: 'vacation' }); // 9 calendar days
  const pf = ex('skip', '2026-08-18', '2026-08-25', { reason: 'payment_failure' });
  const holiday = ex('skip', '2026-08-15', '2026-08-15', { reason: 'holiday' });
  test.each([
    ['daily: vacation days', sub(), [vacation], '2026-08-01', '2026-08-31', ['vacation'], 9],
    ['daily: payment failures are not credited', sub(), [pf], '2026-08-01', '2026-08-31', ['vacation'], 0],
    ['daily: payment failure when asked', sub(), [pf], '2026-08-01', '2026-08-31', ['payment_failure'], 8],
    ['daily: overlap counted once, any listed reason', sub(), [vacation, pf], '2026-08-01', '2026-08-31', ['vacation'], 9],
    ['daily: both reasons, union 12..25', sub(), [vacation, pf], '2026-08-01', '2026-08-31', ['vacation', 'payment_failure'], 14],
    ['daily: nested holiday inside vacation', sub(), [vacation, holiday], '2026-08-01', '2026-08-31', ['vacation', 'holiday'], 9],
    ['daily: holiday only', sub(), [vacation, holiday], '2026-08-01', '2026-08-31', ['holiday'], 1],
    ['daily: range clips the pause', sub(), [vacation], '2026-08-15', '2026-08-16', ['vacation'], 2],
    ['daily: range touching the pause start', sub(), [vacation], '2026-08-01', '2026-08-12', ['vacation'], 1],
    ['daily: range before the pause', sub(), [vacation], '2026-08-01', '2026-08-11', ['vacation'], 0],
    ['MWF: rule days only (12,14,17,19)', sub({}, mwf), [vacation], '2026-08-01', '2026-08-31', ['vacation'], 4],
    [
      'every 3 days from 08-01 (13,16,19)',
      sub({}, { kind: 'every_n_days', n: 3 }),
      [vacation],
      '2026-08-01',
      '2026-08-31',
      ['vacation'],
      3,
    ],
    ['ended early from 08-15', sub(), [{ ...vacation, endedAt: '2026-08-15' }], '2026-08-01', '2026-08-31', ['vacation'], 3],
    ['subscription ends 08-14', sub({ endDate: '2026-08-14' }), [vacation], '2026-08-01', '2026-08-31', ['vacation'], 3],
    ['cancelled from 08-16', sub({ cancelledFrom: '2026-08-16' }), [vacation], '2026-08-01', '2026-08-31', ['vacation'], 4],
    ['starts mid-pause', sub({ startDate: '2026-08-19' }), [vacation], '2026-08-01', '2026-08-31', ['vacation'], 2],
    [
      'open-ended pause, bounded by the range',
      sub(),
      [ex('skip', '2026-08-25', null, { reason: 'vacation' })],
      '2026-08-01',
      '2026-08-31',
      ['vacation'],
      7,
    ],
    ['no reasons', sub(), [vacation], '2026-08-01', '2026-08-31', [], 0],
    [
      'extra on a paused day still counts',
      sub(),
      [vacation, ex('deliver_extra', '2026-08-14', '2026-08-14', { quantity: 1, reason: 'special_request' })],
      '2026-08-01',
      '2026-08-31',
      ['vacation'],
      9,
    ],
  ])('%s → %i', (_name, s, exceptions, from, to, reasons, expected) => {
    expect(pausedDaysIn(s, exceptions as ScheduleException[], from, to, reasons)).toBe(expected);
  });
});
