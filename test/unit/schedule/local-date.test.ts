import fc from 'fast-check';
import {
  DateOutOfRangeError,
  MAX_SUPPORTED_DATE,
  MIN_SUPPORTED_DATE,
  addDays,
  addMonthsClamped,
  daysBetween,
  daysInMonth,
  fromEpochDay,
  isLeapYear,
  isSupportedLocalDate,
  isValidLocalDate,
  isoWeekday,
  toEpochDay,
} from '../../../domain/schedule';

describe('isValidLocalDate', () => {
  test.each([
    ['2026-01-01', true],
    ['2026-12-31', true],
    ['2024-02-29', true],
    ['2000-02-29', true],
    ['2100-02-29', false],
    ['2026-02-29', false],
    ['2026-02-28', true],
    ['2026-04-31', false],
    ['2026-04-30', true],
    ['2026-06-31', false],
    ['2026-09-31', false],
    ['2026-11-31', false],
    ['2026-13-01', false],
    ['2026-00-10', false],
    ['2026-01-00', false],
    ['2026-01-32', false],
    ['2026-1-01', false],
    ['2026-01-1', false],
    ['26-01-01', false],
    ['2026/01/01', false],
    ['2026-01-01T00:00', false],
    ['', false],
    ['abcd-ef-gh', false],
    ['0000-01-01', false],
    ['9999-12-31', true],
  ])('%s → %s', (s, ok) => {
    expect(isValidLocalDate(s)).toBe(ok);
  });

  test('non-strings are invalid', () => {
    expect(isValidLocalDate(20260101)).toBe(false);
    expect(isValidLocalDate(null)).toBe(false);
    expect(isValidLocalDate(undefined)).toBe(false);
  });
});

describe('leap years and month lengths', () => {
  test.each([
    [2024, true],
    [2025, false],
    [2026, false],
    [2028, true],
    [2000, true],
    [1900, false],
    [2100, false],
    [2400, true],
  ])('isLeapYear(%i) = %s', (y, leap) => {
    expect(isLeapYear(y)).toBe(leap);
  });

  test.each([
    [2026, 1, 31],
    [2026, 2, 28],
    [2024, 2, 29],
    [2100, 2, 28],
    [2000, 2, 29],
    [2026, 4, 30],
    [2026, 6, 30],
    [2026, 9, 30],
    [2026, 11, 30],
    [2026, 12, 31],
    [2026, 7, 31],
    [2026, 8, 31],
  ])('daysInMonth(%i, %i) = %i', (y, m, n) => {
    expect(daysInMonth(y, m)).toBe(n);
  });
});

describe('epoch days and weekdays', () => {
  test.each([
    ['2026-01-01', 20454, 4],
    ['2026-03-01', 20513, 7],
    ['2024-02-29', 19782, 4],
    ['2000-02-29', 11016, 2],
    ['2100-02-28', 47540, 7],
    ['2100-03-01', 47541, 1],
    ['2026-08-12', 20677, 3],
    ['2026-08-14', 20679, 5],
    ['2000-01-01', 10957, 6],
    ['2100-12-31', 47846, 5],
  ])('%s is epoch day %i, ISO weekday %i', (date, day, wd) => {
    expect(toEpochDay(date)).toBe(day);
    expect(fromEpochDay(day)).toBe(date);
    expect(isoWeekday(date)).toBe(wd);
  });

  test('dates outside the supported calendar still parse (so they can be rejected clearly)', () => {
    expect(toEpochDay('1970-01-01')).toBe(0);
    expect(toEpochDay('1969-12-31')).toBe(-1);
    expect(isoWeekday('1970-01-01')).toBe(4);
    expect(toEpochDay('9999-12-31')).toBe(2_932_896);
  });

  test('toEpochDay rejects invalid dates', () => {
    expect(() => toEpochDay('2026-02-30')).toThrow(RangeError);
    expect(() => toEpochDay('nope')).toThrow(/invalid LocalDate/);
  });

  test('property: epoch-day round trip agrees with the JS Date UTC calendar', () => {
    fc.assert(
      fc.property(fc.integer({ min: toEpochDay(MIN_SUPPORTED_DATE), max: toEpochDay(MAX_SUPPORTED_DATE) }), (day) => {
        const date = fromEpochDay(day);
        expect(toEpochDay(date)).toBe(day);
        expect(new Date(day * 86_400_000).toISOString().slice(0, 10)).toBe(date);
        expect(isoWeekday(date)).toBe(((new Date(day * 86_400_000).getUTCDay() + 6) % 7) + 1);
      }),
      { numRuns: 500 },
    );
  });
});

describe('addDays', () => {
  test.each([
    ['2026-01-31', 1, '2026-02-01'],
    ['2026-02-28', 1, '2026-03-01'],
    ['2024-02-28', 1, '2024-02-29'],
    ['2024-02-29', 1, '2024-03-01'],
    ['2100-02-28', 1, '2100-03-01'],
    ['2000-02-28', 1, '2000-02-29'],
    ['2026-12-31', 1, '2027-01-01'],
    ['2027-01-01', -1, '2026-12-31'],
    ['2026-03-01', -1, '2026-02-28'],
    ['2024-03-01', -1, '2024-02-29'],
    ['2026-04-30', 1, '2026-05-01'],
    ['2026-01-01', 365, '2027-01-01'],
    ['2024-01-01', 366, '2025-01-01'],
    ['2026-08-12', 0, '2026-08-12'],
    ['2026-03-08', 1, '2026-03-09'],
    ['2026-01-01', 1000, '2028-09-27'],
  ])('addDays(%s, %i) = %s', (d, n, out) => {
    expect(addDays(d, n)).toBe(out);
  });

  test('addDays rejects non-integer offsets', () => {
    expect(() => addDays('2026-01-01', 1.5)).toThrow(RangeError);
  });
});

describe('daysBetween', () => {
  test.each([
    ['2026-01-01', '2026-01-03', 2],
    ['2026-01-03', '2026-01-01', -2],
    ['2026-02-01', '2026-03-01', 28],
    ['2024-02-01', '2024-03-01', 29],
    ['2100-02-01', '2100-03-01', 28],
    ['2026-01-01', '2027-01-01', 365],
    ['2024-01-01', '2025-01-01', 366],
    ['2026-08-12', '2026-08-12', 0],
  ])('daysBetween(%s, %s) = %i', (a, b, n) => {
    expect(daysBetween(a, b)).toBe(n);
  });
});

describe('addMonthsClamped', () => {
  test.each([
    ['2026-01-31', 1, '2026-02-28'],
    ['2024-01-31', 1, '2024-02-29'],
    ['2100-01-31', 1, '2100-02-28'],
    ['2000-01-31', 1, '2000-02-29'],
    ['2026-01-30', 1, '2026-02-28'],
    ['2026-01-28', 1, '2026-02-28'],
    ['2026-03-31', 1, '2026-04-30'],
    ['2026-03-31', -1, '2026-02-28'],
    ['2026-05-31', -1, '2026-04-30'],
    ['2026-01-15', 1, '2026-02-15'],
    ['2026-12-15', 1, '2027-01-15'],
    ['2026-01-15', -1, '2025-12-15'],
    ['2026-01-31', 12, '2027-01-31'],
    ['2024-02-29', 12, '2025-02-28'],
    ['2024-02-29', 48, '2028-02-29'],
    ['2026-08-31', 0, '2026-08-31'],
    ['2026-01-31', 2, '2026-03-31'],
    ['2026-10-31', -20, '2025-02-28'],
  ])('addMonthsClamped(%s, %i) = %s', (d, n, out) => {
    expect(addMonthsClamped(d, n)).toBe(out);
  });

  test('rejects invalid input', () => {
    expect(() => addMonthsClamped('2026-02-31', 1)).toThrow(RangeError);
    expect(() => addMonthsClamped('2026-01-31', 0.5)).toThrow(RangeError);
  });
});

describe('the supported calendar', () => {
  test.each([
    ['2000-01-01', true],
    ['2100-12-31', true],
    ['2026-08-12', true],
    ['1999-12-31', false],
    ['2101-01-01', false],
    ['9999-12-31', false],
    ['2026-02-30', false],
    ['nope', false],
  ])('isSupportedLocalDate(%s) = %s', (d, ok) => {
    expect(isSupportedLocalDate(d)).toBe(ok);
  });

  test.each<[string, () => unknown, number]>([
    ['a day after its last day', () => addDays(MAX_SUPPORTED_DATE, 1), 2101],
    ['a day before its first day', () => addDays(MIN_SUPPORTED_DATE, -1), 1999],
    ['from a far but well-formed date', () => addDays('9999-12-31', 1), 10000],
    ['a month past its end', () => addMonthsClamped('2100-12-15', 1), 2101],
    ['an epoch day outside it', () => fromEpochDay(0), 1970],
  ])('leaving it raises DateOutOfRangeError: %s', (_name, f, year) => {
    let caught: unknown;
    try {
      f();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DateOutOfRangeError);
    expect(caught).toBeInstanceOf(RangeError); // older catch sites keep working
    expect(caught).toMatchObject({ code: 'date_out_of_range', year, name: 'DateOutOfRangeError' });
  });

  test('its edges are reachable', () => {
    expect(addDays('2100-12-30', 1)).toBe(MAX_SUPPORTED_DATE);
    expect(addMonthsClamped('2100-11-30', 1)).toBe('2100-12-30');
    expect(addDays('2000-01-02', -1)).toBe(MIN_SUPPORTED_DATE);
  });
});
