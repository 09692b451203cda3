import { cutoffInstant, isValidTimezone, localDateOf } from '../../../domain/schedule';

const ms = (iso: string) => Date.parse(iso);

describe('localDateOf', () => {
  test.each([
    // Near midnight UTC: already the next day in India (UTC+05:30).
    ['2026-08-11T18:29:59.999Z', 'Asia/Kolkata', '2026-08-11'],
    ['2026-08-11T18:30:00.000Z', 'Asia/Kolkata', '2026-08-12'],
    ['2026-08-11T23:59:00Z', 'Asia/Kolkata', '2026-08-12'],
    ['2026-08-11T23:59:00Z', 'UTC', '2026-08-11'],
    ['2026-12-31T19:00:00Z', 'Asia/Kolkata', '2027-01-01'],
    ['2024-02-28T20:00:00Z', 'Asia/Kolkata', '2024-02-29'],
    // America/New_York: EST (UTC−5) before 2026-03-08 02:00, EDT (UTC−4) after; back on 2026-11-01.
    ['2026-03-08T04:59:59Z', 'America/New_York', '2026-03-07'],
    ['2026-03-08T05:00:00Z', 'America/New_York', '2026-03-08'],
    ['2026-03-09T03:59:59Z', 'America/New_York', '2026-03-08'],
    ['2026-03-09T04:00:00Z', 'America/New_York', '2026-03-09'],
    ['2026-11-01T03:59:59Z', 'America/New_York', '2026-10-31'],
    ['2026-11-01T04:00:00Z', 'America/New_York', '2026-11-01'],
    ['2026-11-02T04:59:59Z', 'America/New_York', '2026-11-01'],
    ['2026-11-02T05:00:00Z', 'America/New_York', '2026-11-02'],
    // Far east, far west.
    ['2026-06-30T12:00:00Z', 'Pacific/Kiritimati', '2026-07-01'],
    ['2026-07-01T10:59:00Z', 'Pacific/Pago_Pago', '2026-06-30'],
    ['2026-01-01T00:00:00Z', 'Asia/Kathmandu', '2026-01-01'],
  ])('%s in %s is %s', (iso, tz, date) => {
    expect(localDateOf(ms(iso), tz)).toBe(date);
  });

  test('defaults to Asia/Kolkata', () => {
    expect(localDateOf(ms('2026-08-11T19:00:00Z'))).toBe('2026-08-12');
  });

  test('rejects an unknown timezone and a non-finite instant', () => {
    expect(() => localDateOf(0, 'Mars/Olympus_Mons')).toThrow(/invalid timezone/);
    expect(() => localDateOf(Number.NaN, 'UTC')).toThrow(RangeError);
  });
});

describe('cutoffInstant', () => {
  test.each([
    ['2026-08-12', 'Asia/Kolkata', '22:00', '2026-08-12T16:30:00.000Z'],
    ['2026-08-12', 'Asia/Kolkata', '00:00', '2026-08-11T18:30:00.000Z'],
    ['2026-08-12', 'Asia/Kolkata', '23:59', '2026-08-12T18:29:00.000Z'],
    ['2026-08-12', 'UTC', '22:00', '2026-08-12T22:00:00.000Z'],
    ['2026-08-12', 'Asia/Kathmandu', '22:00', '2026-08-12T16:15:00.000Z'],
    // New York, spring forward 2026-03-08 02:00 EST → 03:00 EDT.
    ['2026-03-07', 'America/New_York', '22:00', '2026-03-08T03:00:00.000Z'],
    ['2026-03-08', 'America/New_York', '22:00', '2026-03-09T02:00:00.000Z'],
    ['2026-03-08', 'America/New_York', '00:30', '2026-03-08T05:30:00.000Z'],
    ['2026-03-08', 'America/New_York', '03:00', '2026-03-08T07:00:00.000Z'],
    // Wall time inside the gap is moved forward by the gap.
    ['2026-03-08', 'America/New_York', '02:30', '2026-03-08T07:30:00.000Z'],
    // Fall back 2026-11-01 02:00 EDT → 01:00 EST.
    ['2026-10-31', 'America/New_York', '22:00', '2026-11-01T02:00:00.000Z'],
    ['2026-11-01', 'America/New_York', '22:00', '2026-11-02T03:00:00.000Z'],
    ['2026-11-01', 'America/New_York', '00:30', '2026-11-01T04:30:00.000Z'],
    ['2026-11-01', 'America/New_York', '02:00', '2026-11-01T07:00:00.000Z'],
    // Ambiguous wall time → first occurrence (EDT).
    ['2026-11-01', 'America/New_York', '01:30', '2026-11-01T05:30:00.000Z'],
    ['2026-11-01', 'America/New_York', '01:00', '2026-11-01T05:00:00.000Z'],
  ])('%s %s %s → %s', (date, tz, hhmm, iso) => {
    expect(new Date(cutoffInstant(date, tz, hhmm)).toISOString()).toBe(iso);
  });

  test('the cutoff instant maps back to the same local date', () => {
    for (const tz of ['Asia/Kolkata', 'America/New_York', 'UTC', 'Australia/Lord_Howe']) {
      for (const date of ['2026-03-07', '2026-03-08', '2026-04-05', '2026-10-04', '2026-11-01']) {
        expect(localDateOf(cutoffInstant(date, tz, '22:00'), tz)).toBe(date);
      }
    }
  });

  test('defaults: Asia/Kolkata at 22:00', () => {
    expect(cutoffInstant('2026-08-12')).toBe(ms('2026-08-12T16:30:00Z'));
  });

  test.each(['24:00', '7:00', '22:60', '2200', '', '22:00:00'])('rejects wall time %p', (hhmm) => {
    expect(() => cutoffInstant('2026-08-12', 'Asia/Kolkata', hhmm)).toThrow(RangeError);
  });

  test('rejects invalid date and timezone', () => {
    expect(() => cutoffInstant('2026-02-30', 'Asia/Kolkata', '22:00')).toThrow(RangeError);
    expect(() => cutoffInstant('2026-02-10', 'Nowhere/Zone', '22:00')).toThrow(/invalid timezone/);
  });

  test('isValidTimezone', () => {
    expect(isValidTimezone('Asia/Kolkata')).toBe(true);
    expect(isValidTimezone('America/New_York')).toBe(true);
    expect(isValidTimezone('Nowhere/Zone')).toBe(false);
    expect(isValidTimezone('')).toBe(false);
  });
});
