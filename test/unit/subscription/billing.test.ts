import type { ScheduleException, ScheduleSubscription } from '../../../domain/schedule';
import {
  DAY_MS,
  dunningRetryAt,
  earliestChangeableDate,
  nominalPeriodEnd,
  periodEndWithCredit,
  realDelayUntil,
  renewalInstant,
  simNow,
  upcomingPauseEvents,
} from '../../../domain/subscription';

const sub: ScheduleSubscription = {
  id: 's',
  startDate: '2026-08-02',
  endDate: null,
  recurrence: { kind: 'daily' },
  quantity: 1,
  timezone: 'Asia/Kolkata',
  status: 'active',
};
const skip = (id: string, from: string, to: string | null, reason = 'vacation', endedAt: string | null = null): ScheduleException => ({
  id,
  type: 'skip',
  from,
  to,
  reason,
  createdBy: 'c',
  createdAt: '2026-08-01T00:00:00Z',
  endedAt,
});
const month = { unit: 'month' as const, count: 1 };
const days3 = { unit: 'day' as const, count: 3 };

describe('billing periods', () => {
  test.each([
    ['2026-01-31', '2026-02-28'],
    ['2028-01-31', '2028-02-29'],
    ['2026-08-02', '2026-09-02'],
    ['2026-12-15', '2027-01-15'],
  ])('a month from %s ends (exclusive) on %s', (start, end) => expect(nominalPeriodEnd(start, month)).toBe(end));

  test('no pause: the nominal end', () =>
    expect(periodEndWithCredit(sub, [], '2026-08-02', month)).toEqual({ end: '2026-09-02', creditedDays: 0 }));
  test('vacation days in the period move the end forward', () =>
    expect(periodEndWithCredit(sub, [skip('V', '2026-08-10', '2026-08-14')], '2026-08-02', month)).toEqual({
      end: '2026-09-07',
      creditedDays: 5,
    }));
  test('payment-failure and holiday days are not credited', () =>
    expect(
      periodEndWithCredit(
        sub,
        [skip('P', '2026-08-10', null, 'payment_failure', '2026-08-20'), skip('H', '2026-08-15', '2026-08-15', 'holiday')],
        '2026-08-02',
        month,
      ).creditedDays,
    ).toBe(0));
  test('a pause across the nominal end is credited until the paid deliveries were made (fixpoint)', () =>
    expect(periodEndWithCredit(sub, [skip('V', '2026-08-03', '2026-08-06')], '2026-08-02', days3)).toEqual({
      end: '2026-08-09',
      creditedDays: 4,
    }));
  test('an early-ended vacation credits only the days it paused', () =>
    expect(periodEndWithCredit(sub, [skip('V', '2026-08-03', '2026-08-08', 'vacation', '2026-08-05')], '2026-08-02', days3)).toEqual({
      end: '2026-08-07',
      creditedDays: 2,
    }));
  test('only rule days count: Mon/Wed/Fri paused for a week credits 3 days', () => {
    const mwf = { ...sub, recurrence: { kind: 'days_of_week' as const, days: [1, 3, 5] } };
    expect(periodEndWithCredit(mwf, [skip('V', '2026-08-10', '2026-08-16')], '2026-08-03', month).creditedDays).toBe(3);
  });
  test('an open-ended vacation is capped at a year of credit', () =>
    expect(periodEndWithCredit(sub, [skip('V', '2026-08-03', null)], '2026-08-02', days3).creditedDays).toBe(366));
  test('renewal is charged the day before the period at renewal time; IST midnight', () =>
    expect(new Date(renewalInstant('2026-09-02', 'Asia/Kolkata', '00:00')).toISOString()).toBe('2026-08-31T18:30:00.000Z'));
});

describe('clock, cutoff and dunning', () => {
  test('production clock is the real clock', () => {
    const a = { realMs: 1_000, simMs: 1_000 };
    expect(simNow(a, DAY_MS, 5_000)).toBe(5_000);
    expect(realDelayUntil(a, DAY_MS, 5_000, 9_000)).toBe(4_000);
  });
  test('a 1-second test day runs subscription time 86,400x faster', () => {
    const a = { realMs: 0, simMs: 0 };
    expect(simNow(a, 1_000, 1_500)).toBe(1.5 * DAY_MS);
    expect(realDelayUntil(a, 1_000, 1_000, 3 * DAY_MS)).toBe(2_000);
    expect(realDelayUntil(a, 1_000, 5_000, 3 * DAY_MS)).toBe(0);
  });
  test('earliest changeable date: tomorrow before the cutoff, the day after once it passed', () => {
    expect(earliestChangeableDate(Date.parse('2026-08-01T21:59:00+05:30'), 'Asia/Kolkata', '22:00')).toBe('2026-08-02');
    expect(earliestChangeableDate(Date.parse('2026-08-01T22:00:00+05:30'), 'Asia/Kolkata', '22:00')).toBe('2026-08-03');
  });
  test('dunning retries at 1, 3, 5, 7 days after the first decline, then none', () => {
    const f = 1_000;
    expect([1, 2, 3, 4, 5].map((n) => dunningRetryAt(f, [1, 3, 5, 7], n))).toEqual([
      f + DAY_MS,
      f + 3 * DAY_MS,
      f + 5 * DAY_MS,
      f + 7 * DAY_MS,
      null,
    ]);
  });
});

describe('pause notifications', () => {
  test('the last day of a pause run (overlapping skips merge) gets a pause_ending', () => {
    const ev = upcomingPauseEvents([skip('A', '2026-08-05', '2026-08-08'), skip('B', '2026-08-07', '2026-08-10')], '2026-08-02', 90, null);
    expect(ev).toEqual([{ kind: 'pause_ending', date: '2026-08-10', runStart: '2026-08-05', runEnd: '2026-08-10' }]);
  });
  test('an open-ended pause gets a reminder on its 90th day and no ending', () => {
    const ev = upcomingPauseEvents([skip('P', '2026-08-05', null, 'payment_failure')], '2026-08-10', 90, null);
    expect(ev).toEqual([{ kind: 'pause_reminder', date: '2026-11-02', runStart: '2026-08-05', runEnd: null }]);
  });
  test('a pause that runs into the cancellation sends no ending', () =>
    expect(upcomingPauseEvents([skip('A', '2026-08-05', '2026-08-10')], '2026-08-02', 90, '2026-08-10')).toEqual([]));
});
