import fc from 'fast-check';
import {
  CLOCK_SKEW_MS,
  DELIVERY_ID,
  dayBounds,
  dayToClose,
  deliveryIdOf,
  outcomeTimeProblem,
  parseDeliveryId,
  routeVersion,
  type RouteStop,
} from '../../../domain/fulfilment';

describe('the delivery day in an area', () => {
  test('runs from local midnight to local midnight', () => {
    expect(dayBounds('2026-12-05', 'Asia/Kolkata')).toEqual({
      startMs: Date.parse('2026-12-04T18:30:00Z'),
      endMs: Date.parse('2026-12-05T18:30:00Z'),
    });
  });

  test('is 23 or 25 hours long across a DST change', () => {
    const spring = dayBounds('2026-03-08', 'America/New_York');
    const autumn = dayBounds('2026-11-01', 'America/New_York');
    expect((spring.endMs - spring.startMs) / 3_600_000).toBe(23);
    expect((autumn.endMs - autumn.startMs) / 3_600_000).toBe(25);
  });

  test('an outcome time must fall in it and not in the future', () => {
    const { startMs, endMs } = dayBounds('2026-12-05', 'Asia/Kolkata');
    const late = endMs + 30 * 3_600_000; // synced the next afternoon
    expect(outcomeTimeProblem(startMs, '2026-12-05', 'Asia/Kolkata', late)).toBeNull();
    expect(outcomeTimeProblem(endMs - 1, '2026-12-05', 'Asia/Kolkata', late)).toBeNull();
    expect(outcomeTimeProblem(endMs, '2026-12-05', 'Asia/Kolkata', late)).toBe('at_outside_day');
    expect(outcomeTimeProblem(startMs - 1, '2026-12-05', 'Asia/Kolkata', late)).toBe('at_outside_day');
    expect(outcomeTimeProblem(startMs + 3_600_000, '2026-12-05', 'Asia/Kolkata', startMs)).toBe('at_in_future');
    expect(outcomeTimeProblem(startMs + CLOCK_SKEW_MS, '2026-12-05', 'Asia/Kolkata', startMs)).toBeNull();
  });

  test('the close is for today once the cutoff passed, else for yesterday', () => {
    const before = Date.parse('2026-12-05T11:59:00+05:30');
    const after = Date.parse('2026-12-05T12:00:00+05:30');
    expect(dayToClose(before, 'Asia/Kolkata', '12:00')).toBe('2026-12-04');
    expect(dayToClose(after, 'Asia/Kolkata', '12:00')).toBe('2026-12-05');
    expect(dayToClose(Date.parse('2026-12-06T01:00:00+05:30'), 'Asia/Kolkata', '23:30')).toBe('2026-12-05');
  });
});

describe('delivery ids', () => {
  test('are the subscription and date, and read back', () => {
    const id = deliveryIdOf('sub_3f9a1c2d4e5f', '2026-12-05');
    expect(id).toBe('sub_3f9a1c2d4e5f-2026-12-05');
    expect(DELIVERY_ID.test(id)).toBe(true);
    expect(parseDeliveryId(id)).toEqual({ subscriptionId: 'sub_3f9a1c2d4e5f', date: '2026-12-05' });
  });

  test('round-trip for any subscription id, even one with dashes', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 60 }),
        fc.date({ min: new Date('2000-01-01'), max: new Date('2100-12-31'), noInvalidDate: true }),
        (sub, d) => {
          const date = d.toISOString().slice(0, 10);
          expect(parseDeliveryId(deliveryIdOf(sub, date))).toEqual({ subscriptionId: sub, date });
        },
      ),
    );
  });

  test.each(['', 'sub_1', 'sub_abc-2026-13-01', 'sub_abc_2026-12-05', '-2026-12-05'])('%j is not one', (id) => {
    expect(parseDeliveryId(id)).toBeNull();
  });
});

describe('the route version token', () => {
  const stop = (n: number, over: Partial<RouteStop> = {}): RouteStop => ({
    deliveryId: `sub_${n}-2026-12-05`,
    sequence: n,
    quantity: 1,
    productId: 'milk-500ml',
    addressId: `adr_${n}`,
    addressLine: `${n} MG Road`,
    notes: null,
    ...over,
  });
  const route = [stop(1), stop(2), stop(3)];

  test('is stable and short', () => {
    expect(routeVersion(route)).toBe(routeVersion(route.map((s) => ({ ...s }))));
    expect(routeVersion(route)).toMatch(/^v1-[0-9a-f]{16}$/);
  });

  test.each([
    ['a quantity', [stop(1), stop(2, { quantity: 2 }), stop(3)]],
    ['a note', [stop(1), stop(2, { notes: 'ring twice' }), stop(3)]],
    ['the order', [stop(2), stop(1), stop(3)]],
    ['a sequence', [stop(1), stop(2, { sequence: 7 }), stop(3)]],
    ['an address', [stop(1), stop(2, { addressLine: '2 MG Rd' }), stop(3)]],
    ['a delivery added', [...route, stop(4)]],
    ['a delivery dropped', route.slice(0, 2)],
  ])('changes with %s', (_what, changed) => {
    expect(routeVersion(changed)).not.toBe(routeVersion(route));
  });
});
