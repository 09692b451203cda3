import fc from 'fast-check';
import { addDays, type ScheduleException, type ScheduleSubscription } from '../../../domain/schedule';
import { deliveryStreak, type StreakDelivery } from '../../../domain/fulfilment';

const START = '2026-03-01';
const daily: ScheduleSubscription = {
  id: 'sub_streak',
  startDate: START,
  endDate: null,
  recurrence: { kind: 'daily' },
  quantity: 1,
  timezone: 'Asia/Kolkata',
  status: 'active',
};

/** What can happen on one day, as the stored data says it. */
const KINDS = [
  'delivered',
  'refused', // failed, the customer's doing
  'out_of_stock', // failed, ours
  'unconfirmed',
  'scheduled',
  'vacation',
  'holiday',
  'payment_failure',
  'no_row', // a rule day without a generated delivery
  'extra_in_payment_pause', // a payment-failure pause, but an extra was delivered that day
] as const;
type Kind = (typeof KINDS)[number];

/** The specification, as plainly as it can be said: what each kind does to the count. */
const SPEC: Record<Kind, 'extends' | 'breaks' | 'neither'> = {
  delivered: 'extends',
  refused: 'breaks',
  out_of_stock: 'neither',
  unconfirmed: 'neither',
  scheduled: 'neither',
  vacation: 'neither',
  holiday: 'neither',
  payment_failure: 'breaks',
  no_row: 'neither',
  extra_in_payment_pause: 'extends',
};

function referenceStreak(kinds: readonly Kind[]) {
  let current = 0;
  let longest = 0;
  for (const k of kinds) {
    if (SPEC[k] === 'extends') longest = Math.max(longest, ++current);
    if (SPEC[k] === 'breaks') current = 0;
  }
  return { current, longest };
}

/** Stored rows and exceptions that say `kinds[i]` happened on START + i. */
function dataFor(kinds: readonly Kind[]): { deliveries: StreakDelivery[]; exceptions: ScheduleException[] } {
  const deliveries: StreakDelivery[] = [];
  const exceptions: ScheduleException[] = [];
  kinds.forEach((k, i) => {
    const date = addDays(START, i);
    const skip = (reason: string): ScheduleException => ({
      id: `E${i}`,
      type: 'skip',
      from: date,
      to: date,
      reason,
      createdBy: 'test',
      createdAt: '2026-02-01T00:00:00Z',
    });
    switch (k) {
      case 'delivered':
      case 'unconfirmed':
      case 'scheduled':
        deliveries.push({ date, status: k, customerCaused: null });
        break;
      case 'refused':
      case 'out_of_stock':
        deliveries.push({ date, status: 'failed', customerCaused: k === 'refused' });
        break;
      case 'vacation':
      case 'holiday':
      case 'payment_failure':
        exceptions.push(skip(k));
        break;
      case 'extra_in_payment_pause':
        exceptions.push(skip('payment_failure'));
        deliveries.push({ date, status: 'delivered', customerCaused: null });
        break;
      case 'no_row':
        break;
    }
  });
  return { deliveries, exceptions };
}

function streakOf(kinds: readonly Kind[], asOf = addDays(START, Math.max(0, kinds.length - 1))) {
  return deliveryStreak({ subscription: daily, ...dataFor(kinds), asOf });
}

/** Every sequence of `length` kinds. */
function* sequences(length: number): Generator<Kind[]> {
  const idx = new Array<number>(length).fill(0);
  for (;;) {
    yield idx.map((i) => KINDS[i]);
    let p = length - 1;
    while (p >= 0 && ++idx[p] === KINDS.length) idx[p--] = 0;
    if (p < 0) return;
  }
}

describe('the streak, exhaustively', () => {
  test('every sequence of up to 5 days of every kind agrees with the specification (111,110 sequences)', () => {
    let checked = 0;
    for (let length = 1; length <= 5; length++) {
      for (const kinds of sequences(length)) {
        const got = streakOf(kinds);
        const want = referenceStreak(kinds);
        if (got.current !== want.current || got.longest !== want.longest) {
          throw new Error(`${kinds.join(',')}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
        }
        checked++;
      }
    }
    expect(checked).toBe(10 + 100 + 1_000 + 10_000 + 100_000);
  });
});

describe('the streak, day by day', () => {
  test('a vacation or a holiday neither breaks nor extends it', () => {
    expect(streakOf(['delivered', 'delivered', 'vacation', 'vacation', 'holiday', 'delivered'])).toMatchObject({
      current: 3,
      longest: 3,
      since: START,
      lastDelivered: addDays(START, 5),
      lastBreak: null,
    });
  });

  test('a payment-failure pause breaks it, on its first rule day', () => {
    expect(streakOf(['delivered', 'delivered', 'payment_failure', 'delivered'])).toEqual({
      current: 1,
      longest: 2,
      since: addDays(START, 3),
      lastDelivered: addDays(START, 3),
      lastBreak: { date: addDays(START, 2), cause: 'payment_failure' },
    });
  });

  test('a failure the customer caused breaks it; one they did not leaves it', () => {
    expect(streakOf(['delivered', 'refused', 'delivered'])).toMatchObject({
      current: 1,
      lastBreak: { date: addDays(START, 1), cause: 'customer_failure' },
    });
    expect(streakOf(['delivered', 'out_of_stock', 'delivered'])).toMatchObject({ current: 2, lastBreak: null });
  });

  test('days after asOf do not count, and nothing delivered is no streak', () => {
    expect(streakOf(['delivered', 'delivered', 'refused'], addDays(START, 1))).toMatchObject({ current: 2 });
    expect(streakOf([])).toEqual({ current: 0, longest: 0, since: null, lastDelivered: null, lastBreak: null });
  });

  test('a payment-failure pause over days the rule does not deliver on breaks nothing', () => {
    const mondays: ScheduleSubscription = { ...daily, startDate: '2026-03-02', recurrence: { kind: 'days_of_week', days: [1] } };
    const pause: ScheduleException = {
      id: 'P',
      type: 'skip',
      from: '2026-03-03',
      to: '2026-03-08', // Tuesday to Sunday
      reason: 'payment_failure',
      createdBy: 'system:dunning',
      createdAt: '2026-03-03T00:00:00Z',
    };
    const deliveries: StreakDelivery[] = ['2026-03-02', '2026-03-09'].map((date) => ({ date, status: 'delivered', customerCaused: null }));
    expect(deliveryStreak({ subscription: mondays, exceptions: [pause], deliveries, asOf: '2026-03-09' })).toMatchObject({ current: 2 });
    const longer = { ...pause, to: null, endedAt: '2026-03-10' }; // open-ended, ended after covering Monday the 9th
    expect(
      deliveryStreak({ subscription: mondays, exceptions: [longer], deliveries: deliveries.slice(0, 1), asOf: '2026-03-16' }),
    ).toMatchObject({
      current: 0,
      lastBreak: { date: '2026-03-09', cause: 'payment_failure' },
    });
  });

  test('a payment-failure pause before the subscription started breaks nothing', () => {
    const before: ScheduleException = {
      id: 'P',
      type: 'skip',
      from: '2026-02-20',
      to: '2026-02-28',
      reason: 'payment_failure',
      createdBy: 'system:dunning',
      createdAt: '2026-02-20T00:00:00Z',
    };
    expect(
      deliveryStreak({
        subscription: daily,
        exceptions: [before],
        deliveries: [{ date: START, status: 'delivered', customerCaused: null }],
        asOf: START,
      }),
    ).toMatchObject({ current: 1, lastBreak: null });
  });
});

describe('the streak, as properties over longer histories', () => {
  const kindsArb = fc.array(fc.constantFrom(...KINDS), { minLength: 0, maxLength: 60 });

  test('agrees with the specification, and current ≤ longest', () => {
    fc.assert(
      fc.property(kindsArb, (kinds) => {
        const got = streakOf(kinds);
        expect({ current: got.current, longest: got.longest }).toEqual(referenceStreak(kinds));
        expect(got.current).toBeLessThanOrEqual(got.longest);
        expect(got.since === null).toBe(got.current === 0);
      }),
    );
  });

  test('inserting days that neither break nor extend changes neither figure', () => {
    const neutral = KINDS.filter((k) => SPEC[k] === 'neither');
    fc.assert(
      fc.property(kindsArb, fc.array(fc.tuple(fc.nat(), fc.constantFrom(...neutral)), { maxLength: 10 }), (kinds, inserts) => {
        const longer = [...kinds];
        for (const [at, k] of inserts) longer.splice(at % (longer.length + 1), 0, k);
        const a = streakOf(kinds);
        const b = streakOf(longer);
        expect([b.current, b.longest]).toEqual([a.current, a.longest]);
      }),
    );
  });
});
