import { validateExceptionRequest, type ExceptionRequest } from '../../../domain/schedule';

const IST = { today: '2026-08-10', timezone: 'Asia/Kolkata', cutoff: '22:00' };
const before = { ...IST, nowMs: Date.parse('2026-08-10T16:29:59Z') }; // 21:59:59 IST
const atCutoff = { ...IST, nowMs: Date.parse('2026-08-10T16:30:00Z') }; // 22:00 IST
const after = { ...IST, nowMs: Date.parse('2026-08-10T17:00:00Z') }; // 22:30 IST

describe('validateExceptionRequest', () => {
  test.each<[string, ExceptionRequest, typeof before, string[]]>([
    ['skip from tomorrow before the cutoff', { type: 'skip', from: '2026-08-11', to: '2026-08-15' }, before, []],
    ['skip from tomorrow at the cutoff', { type: 'skip', from: '2026-08-11', to: '2026-08-15' }, atCutoff, ['after_cutoff']],
    ['skip from tomorrow after the cutoff', { type: 'skip', from: '2026-08-11', to: '2026-08-15' }, after, ['after_cutoff']],
    ['skip from the day after tomorrow after the cutoff', { type: 'skip', from: '2026-08-12', to: '2026-08-15' }, after, []],
    ['open-ended skip', { type: 'skip', from: '2026-08-12', to: null }, before, []],
    ['skip starting today', { type: 'skip', from: '2026-08-10', to: '2026-08-15' }, before, ['starts_in_past']],
    ['skip starting yesterday', { type: 'skip', from: '2026-08-09', to: '2026-08-15' }, before, ['starts_in_past']],
    ['range entirely in the past', { type: 'skip', from: '2026-08-01', to: '2026-08-05' }, before, ['range_in_past']],
    ['range ending today', { type: 'skip', from: '2026-08-01', to: '2026-08-10' }, before, ['range_in_past']],
    ['to before from', { type: 'skip', from: '2026-08-15', to: '2026-08-12' }, before, ['to_before_from']],
    ['invalid from', { type: 'skip', from: '2026-02-30', to: '2026-03-02' }, before, ['invalid_from']],
    ['invalid to', { type: 'skip', from: '2026-08-12', to: '2026-8-13' }, before, ['invalid_to']],
    ['skip with quantity', { type: 'skip', from: '2026-08-12', to: '2026-08-13', quantity: 1 }, before, ['quantity_not_allowed']],
    ['extra ok', { type: 'deliver_extra', from: '2026-08-14', to: '2026-08-14', quantity: 1 }, before, []],
    ['extra without quantity', { type: 'deliver_extra', from: '2026-08-14', to: '2026-08-14' }, before, ['quantity_required']],
    ['extra with zero', { type: 'deliver_extra', from: '2026-08-14', to: '2026-08-14', quantity: 0 }, before, ['quantity_not_positive']],
    [
      'extra with negative',
      { type: 'deliver_extra', from: '2026-08-14', to: '2026-08-14', quantity: -1 },
      before,
      ['quantity_not_positive'],
    ],
    [
      'extra with fraction',
      { type: 'deliver_extra', from: '2026-08-14', to: '2026-08-14', quantity: 1.5 },
      before,
      ['quantity_not_integer'],
    ],
    ['extra above the cap', { type: 'deliver_extra', from: '2026-08-14', to: '2026-08-14', quantity: 101 }, before, ['quantity_too_large']],
    ['extra open-ended', { type: 'deliver_extra', from: '2026-08-14', to: null, quantity: 1 }, before, ['open_ended_not_allowed']],
    ['change ok', { type: 'change_quantity', from: '2026-08-12', to: '2026-08-31', quantity: 3 }, before, []],
    ['change without quantity', { type: 'change_quantity', from: '2026-08-12', to: '2026-08-31' }, before, ['quantity_required']],
    [
      'change with null quantity, after cutoff for tomorrow',
      { type: 'change_quantity', from: '2026-08-11', to: '2026-08-31', quantity: null },
      after,
      ['after_cutoff', 'quantity_required'],
    ],
    [
      'several errors at once',
      { type: 'deliver_extra', from: '2026-08-15', to: '2026-08-14', quantity: 0 },
      before,
      ['to_before_from', 'quantity_not_positive'],
    ],
    ['unknown type', { type: 'bogus' as ExceptionRequest['type'], from: '2026-08-12', to: '2026-08-13' }, before, ['invalid_type']],
  ])('%s', (_name, req, ctx, errors) => {
    expect(validateExceptionRequest(req, ctx)).toEqual(errors);
  });

  test('defaults: Asia/Kolkata and 22:00', () => {
    const req: ExceptionRequest = { type: 'skip', from: '2026-08-11', to: '2026-08-11' };
    expect(validateExceptionRequest(req, { today: '2026-08-10', nowMs: Date.parse('2026-08-10T16:29:00Z') })).toEqual([]);
    expect(validateExceptionRequest(req, { today: '2026-08-10', nowMs: Date.parse('2026-08-10T16:31:00Z') })).toEqual(['after_cutoff']);
  });

  test('custom cutoff', () => {
    const req: ExceptionRequest = { type: 'skip', from: '2026-08-11', to: '2026-08-11' };
    expect(validateExceptionRequest(req, { ...before, cutoff: '20:00' })).toEqual(['after_cutoff']);
  });

  test.each([
    // New York, day of spring-forward: 22:00 EDT = 02:00Z next day
    ['2026-03-08', '2026-03-09T01:59:00Z', []],
    ['2026-03-08', '2026-03-09T02:00:00Z', ['after_cutoff']],
    // day before spring-forward: 22:00 EST = 03:00Z
    ['2026-03-07', '2026-03-08T02:30:00Z', []],
    ['2026-03-07', '2026-03-08T03:00:00Z', ['after_cutoff']],
    // fall-back day: 22:00 EST = 03:00Z next day
    ['2026-11-01', '2026-11-02T02:30:00Z', []],
    ['2026-11-01', '2026-11-02T03:00:00Z', ['after_cutoff']],
  ])('America/New_York cutoff on %s at %s → %j', (today, nowIso, errors) => {
    const tomorrow = new Date(Date.parse(today + 'T12:00:00Z') + 86_400_000).toISOString().slice(0, 10);
    const req: ExceptionRequest = { type: 'skip', from: tomorrow, to: tomorrow };
    expect(validateExceptionRequest(req, { today, nowMs: Date.parse(nowIso), timezone: 'America/New_York' })).toEqual(errors);
  });

  test('invalid today throws', () => {
    expect(() => validateExceptionRequest({ type: 'skip', from: '2026-08-12', to: null }, { today: 'x', nowMs: 0 })).toThrow(RangeError);
  });
});
