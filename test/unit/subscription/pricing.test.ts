import { DateOutOfRangeError, type ScheduleException, type ScheduleSubscription } from '../../../domain/schedule';
import {
  MAX_PERIOD_CHARGE,
  nominalPeriodEnd,
  periodEndWithCredit,
  periodUnits,
  pricingProblems,
  quotePlan,
  renewalCharge,
  type PlanToQuote,
} from '../../../domain/subscription';

const month = { unit: 'month' as const, count: 1 };
const days3 = { unit: 'day' as const, count: 3 };
const plan = (over: Partial<PlanToQuote> = {}): PlanToQuote => ({
  recurrence: { kind: 'daily' },
  startDate: '2026-08-02',
  endDate: null,
  quantity: 1,
  timezone: 'Asia/Kolkata',
  ...over,
});

describe('quotePlan: recurrence × quantity × unit price over the first period', () => {
  test.each<[string, PlanToQuote, typeof month | typeof days3, number, string]>([
    ['daily, a 31-day month', plan(), month, 31, '2026-09-01'],
    ['daily, February', plan({ startDate: '2026-02-01' }), month, 28, '2026-02-28'],
    ['daily, leap February', plan({ startDate: '2028-02-01' }), month, 29, '2028-02-29'],
    [
      'Mon/Wed/Fri from a Monday',
      plan({ startDate: '2026-08-10', recurrence: { kind: 'days_of_week', days: [1, 3, 5] } }),
      month,
      14,
      '2026-09-09',
    ],
    [
      'every 11th day: 3 in any month',
      plan({ startDate: '2026-02-01', recurrence: { kind: 'every_n_days', n: 11 } }),
      month,
      3,
      '2026-02-28',
    ],
    // Jan 31 + 1 month clamps to Feb 28 (exclusive): the period holds one month-end, Jan 31.
    [
      'the last day of the month',
      plan({ startDate: '2026-01-31', recurrence: { kind: 'days_of_month', days: ['last'] } }),
      month,
      1,
      '2026-02-27',
    ],
    ['an end date inside the period', plan({ endDate: '2026-08-11' }), month, 10, '2026-08-11'],
    ['a 3-day period (tests)', plan(), days3, 3, '2026-08-04'],
  ])('%s', (_name, p, period, deliveries, lastDay) => {
    const q = quotePlan({ ...p, quantity: 2 }, 3_000, period);
    expect(q).toEqual({
      unitPrice: 3_000,
      quantity: 2,
      deliveriesPerPeriod: deliveries,
      periodCharge: 3_000 * 2 * deliveries,
      billingPeriod: period,
      firstPeriod: { from: p.startDate, to: lastDay },
    });
    expect(pricingProblems(q)).toEqual([]);
  });

  test('nothing to deliver in the first period cannot be sold', () => {
    // Fridays only, but the subscription ends on the Tuesday after it starts.
    const q = quotePlan(
      plan({ startDate: '2026-08-10', endDate: '2026-08-11', recurrence: { kind: 'days_of_week', days: [5] } }),
      3_000,
      month,
    );
    expect(q).toMatchObject({ deliveriesPerPeriod: 0, periodCharge: 0 });
    expect(pricingProblems(q)).toEqual(['no_deliveries_in_period']);
  });

  test('100 units a day of a ₹100 product is priced at what it costs, above the per-period ceiling', () => {
    const q = quotePlan(plan({ quantity: 100 }), 10_000, month);
    expect(q.periodCharge).toBe(10_000 * 100 * 31);
    expect(pricingProblems(q)).toEqual(['period_charge_too_large']);
    expect(pricingProblems(quotePlan(plan({ quantity: 1 }), MAX_PERIOD_CHARGE / 31, month))).toEqual([]);
  });

  test('a start beyond the supported calendar raises the typed error, not a bare RangeError', () => {
    expect(() => quotePlan(plan({ startDate: '2100-12-15' }), 3_000, month)).toThrow(DateOutOfRangeError);
    expect(() => nominalPeriodEnd('9999-12-31', month)).toThrow(DateOutOfRangeError);
  });
});

describe('renewalCharge: quantity changes and extras re-price the next renewal', () => {
  const sub: ScheduleSubscription = {
    id: 's',
    startDate: '2026-08-02',
    endDate: null,
    recurrence: { kind: 'daily' },
    quantity: 1,
    timezone: 'Asia/Kolkata',
    status: 'active',
  };
  const ex = (
    id: string,
    type: ScheduleException['type'],
    from: string,
    to: string | null,
    reason: string,
    quantity?: number,
  ): ScheduleException => ({
    id,
    type,
    from,
    to,
    reason,
    createdBy: 'c',
    createdAt: '2026-08-01T00:00:00Z',
    ...(quantity === undefined ? {} : { quantity }),
  });
  const args = (exceptions: ScheduleException[], start: string, previous: { start: string; chargedUnits: number } | null) => ({
    sub,
    exceptions,
    unitPrice: 3_000,
    billingPeriod: month,
    start,
    previous,
  });

  test('the first renewal charges the quote', () => {
    const r = renewalCharge(args([], '2026-08-02', null));
    expect(r).toEqual({
      from: '2026-08-02',
      to: '2026-09-02',
      units: 31,
      adjustmentUnits: 0,
      amount: quotePlan(plan(), 3_000, month).periodCharge,
    });
  });

  test('a change made after its period was charged is billed once, with the next renewal', () => {
    // Period 1 (Aug 2 – Sep 1) was charged for 31 units; then 3 a day on Aug 20–21 (+4) and 2 extra on Aug 25 (+2).
    const exceptions = [
      ex('E1', 'change_quantity', '2026-08-20', '2026-08-21', 'special_request', 3),
      ex('E2', 'deliver_extra', '2026-08-25', '2026-08-25', 'special_request', 2),
    ];
    const r = renewalCharge(args(exceptions, '2026-09-02', { start: '2026-08-02', chargedUnits: 31 }));
    expect(r).toEqual({ from: '2026-09-02', to: '2026-10-02', units: 30, adjustmentUnits: 6, amount: 36 * 3_000 });
  });

  test('a quantity change in the new period is in its own charge', () => {
    const r = renewalCharge(
      args([ex('E1', 'change_quantity', '2026-09-05', '2026-09-14', 'special_request', 2)], '2026-09-02', {
        start: '2026-08-02',
        chargedUnits: 31,
      }),
    );
    expect(r).toMatchObject({ units: 40, adjustmentUnits: 0, amount: 40 * 3_000 });
  });

  test('vacation days are no difference: they extend the period, the paid deliveries are still made', () => {
    const vacation = [ex('V', 'skip', '2026-08-10', '2026-08-12', 'vacation')];
    const { end } = periodEndWithCredit(sub, vacation, '2026-08-02', month);
    expect(end).toBe('2026-09-05');
    expect(periodUnits(sub, vacation, '2026-08-02', end)).toBe(31);
    expect(renewalCharge(args(vacation, end, { start: '2026-08-02', chargedUnits: 31 })).adjustmentUnits).toBe(0);
  });

  test('a holiday (not credited) is a day less: credited against the next renewal, never below zero', () => {
    const holiday = [ex('H', 'skip', '2026-08-15', '2026-08-15', 'holiday')];
    expect(renewalCharge(args(holiday, '2026-09-02', { start: '2026-08-02', chargedUnits: 31 }))).toMatchObject({
      units: 30,
      adjustmentUnits: -1,
      amount: 29 * 3_000,
    });
    expect(renewalCharge(args([], '2026-09-02', { start: '2026-08-02', chargedUnits: 100 })).amount).toBe(0);
  });
});
