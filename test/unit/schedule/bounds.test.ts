import fc from 'fast-check';
import {
  MAX_DAYS_AHEAD,
  addDays,
  dateBoundsErrors,
  daysAhead,
  toEpochDay,
  validateExceptionRequest,
  type ExceptionRequest,
} from '../../../domain/schedule';

const today = '2026-08-10';

describe('dateBoundsErrors', () => {
  test.each<[string, string, string | null, Parameters<typeof dateBoundsErrors>[2], string[]]>([
    ['the last day of the horizon', addDays(today, 366), null, { today }, []],
    ['a day past the horizon', addDays(today, 367), null, { today }, ['too_far_ahead']],
    ['a range ending past the horizon', addDays(today, 300), addDays(today, 400), { today }, ['too_far_ahead']],
    ['the far end of the format', '9999-12-31', '9999-12-31', { today }, ['too_far_ahead']],
    ['an open-ended range from near dates', addDays(today, 2), null, { today }, []],
    ['a custom horizon', addDays(today, 8), null, { today, maxDaysAhead: 7 }, ['too_far_ahead']],
    ['on the start date', '2026-08-20', '2026-08-21', { today, startDate: '2026-08-20' }, []],
    ['before the start date', '2026-08-19', '2026-08-21', { today, startDate: '2026-08-20' }, ['before_subscription_start']],
    ['on the end date', '2026-08-30', '2026-08-31', { today, endDate: '2026-08-31' }, []],
    ['reaching past the end date', '2026-08-30', '2026-09-01', { today, endDate: '2026-08-31' }, ['after_subscription_end']],
    ['starting past the end date', '2026-09-01', '2026-09-02', { today, endDate: '2026-08-31' }, ['after_subscription_end']],
    ['open-ended, from inside the life', '2026-08-30', null, { today, endDate: '2026-08-31' }, []],
    ['open-ended, from after the end', '2026-09-01', null, { today, endDate: '2026-08-31' }, ['after_subscription_end']],
    [
      'far, before the start and after the end at once',
      '2026-08-01',
      '9999-01-01',
      { today, startDate: '2026-08-05', endDate: '2026-08-31' },
      ['too_far_ahead', 'before_subscription_start', 'after_subscription_end'],
    ],
  ])('%s', (_name, from, to, bounds, errors) => {
    expect(dateBoundsErrors(from, to, bounds)).toEqual(errors);
  });

  test('daysAhead is plain epoch arithmetic, also for dates outside the supported calendar', () => {
    expect(daysAhead(today, addDays(today, MAX_DAYS_AHEAD))).toBe(366);
    expect(daysAhead(today, '9999-12-31')).toBe(toEpochDay('9999-12-31') - toEpochDay(today));
    expect(daysAhead(today, '0001-01-01')).toBeLessThan(0);
  });
});

describe('validateExceptionRequest bounds every date', () => {
  const ctx = { today, nowMs: Date.parse('2026-08-10T06:00:00Z') };
  test.each<[string, ExceptionRequest, Partial<Parameters<typeof validateExceptionRequest>[1]>, string[]]>([
    ['a pause from 9999-12-31, until resumed', { type: 'skip', from: '9999-12-31', to: null }, {}, ['too_far_ahead']],
    ['a skip 367 days ahead', { type: 'skip', from: addDays(today, 367), to: addDays(today, 367) }, {}, ['too_far_ahead']],
    ['a skip up to 366 days ahead', { type: 'skip', from: addDays(today, 2), to: addDays(today, 366) }, {}, []],
    ['an extra far ahead', { type: 'deliver_extra', from: '2100-12-31', to: '2100-12-31', quantity: 1 }, {}, ['too_far_ahead']],
    [
      'a quantity change ending far ahead',
      { type: 'change_quantity', from: addDays(today, 3), to: '9999-12-31', quantity: 2 },
      {},
      ['too_far_ahead'],
    ],
    [
      'a pause before the start',
      { type: 'skip', from: addDays(today, 2), to: addDays(today, 6) },
      { startDate: addDays(today, 4) },
      ['before_subscription_start'],
    ],
    [
      'a quantity change past the end',
      { type: 'change_quantity', from: addDays(today, 3), to: addDays(today, 9), quantity: 2 },
      { endDate: addDays(today, 8) },
      ['after_subscription_end'],
    ],
    [
      'a past range before the start: the past is named first',
      { type: 'skip', from: addDays(today, -3), to: addDays(today, -1) },
      { startDate: addDays(today, 3) },
      ['range_in_past', 'before_subscription_start'],
    ],
    [
      'to before from: no bounds codes on a reversed range',
      { type: 'skip', from: '9999-12-31', to: addDays(today, 5) },
      {},
      ['to_before_from'],
    ],
  ])('%s', (_name, req, extra, errors) => {
    expect(validateExceptionRequest(req, { ...ctx, ...extra })).toEqual(errors);
  });

  test('property: never throws for any well-formed date, however far (signals stay rejections)', () => {
    const anyDay = fc
      .integer({ min: toEpochDay('0001-01-01'), max: toEpochDay('9999-12-31') })
      .map((d) => new Date(d * 86_400_000).toISOString().slice(0, 10));
    fc.assert(
      fc.property(
        anyDay,
        fc.option(anyDay, { nil: null }),
        fc.constantFrom<ExceptionRequest['type']>('skip', 'deliver_extra', 'change_quantity'),
        (from, to, type) => {
          const errors = validateExceptionRequest(
            { type, from, to, quantity: type === 'skip' ? undefined : 1 },
            { ...ctx, startDate: '2026-08-12', endDate: '2027-08-12' },
          );
          if (daysAhead(today, from) > MAX_DAYS_AHEAD && (to === null || to >= from)) expect(errors).toContain('too_far_ahead');
        },
      ),
      { numRuns: 500 },
    );
  });
});
