import {
  DEFAULT_INCREMENTS,
  MAX_INCREMENT_ROWS,
  incrementAt,
  nextMinimum,
  openBook,
  parseIncrementTable,
  type LotTerms,
} from '../../../domain/auction';

const terms: LotTerms = {
  sellerId: 'seller',
  startingPrice: 100,
  reservePrice: null,
  buyNowPrice: null,
  softCloseMs: 10_000,
  suddenDeath: false,
  increments: DEFAULT_INCREMENTS,
};

describe('incrementAt on the default rate card', () => {
  test.each([
    [1, 100],
    [2999, 100],
    [3000, 200], // ₹30 exactly: the ₹2 step
    [4999, 200],
    [5000, 500], // ₹50
    [9999, 500],
    [10000, 1000], // ₹100
    [29999, 1000],
    [30000, 2000], // ₹300
    [99999, 2000],
    [100000, 5000], // ₹1,000
    [1_000_000_000, 5000],
  ])('at %i paise the step is %i', (price, step) => {
    expect(incrementAt(price, DEFAULT_INCREMENTS)).toBe(step);
  });

  test('the next minimum is the starting price before any bid, then one step above the price', () => {
    const book = openBook(terms, 1000);
    expect(nextMinimum({ ...terms, startingPrice: 2500 }, book)).toBe(2500);
    expect(nextMinimum(terms, { ...book, price: 2900 })).toBe(3000);
    expect(nextMinimum(terms, { ...book, price: 3000 })).toBe(3200);
    expect(nextMinimum(terms, { ...book, price: 4900 })).toBe(5100);
    expect(nextMinimum(terms, { ...book, price: 5000 })).toBe(5500);
    expect(nextMinimum(terms, { ...book, price: 100000 })).toBe(105000);
  });

  test('a custom table applies its own rows', () => {
    const table = parseIncrementTable([
      { below: 500, step: 10 },
      { below: null, step: 25 },
    ]);
    expect([incrementAt(499, table), incrementAt(500, table), incrementAt(10_000, table)]).toEqual([10, 25, 25]);
  });

  test('an empty table has no step', () => {
    expect(() => incrementAt(100, [])).toThrow(RangeError);
  });
});

describe('parseIncrementTable', () => {
  test('accepts the default table and returns a copy', () => {
    const stored = JSON.parse(JSON.stringify(DEFAULT_INCREMENTS));
    const parsed = parseIncrementTable(stored);
    expect(parsed).toEqual(DEFAULT_INCREMENTS);
    expect(parsed).not.toBe(stored);
  });

  test('accepts a single open-ended row', () => {
    expect(parseIncrementTable([{ below: null, step: 100 }])).toEqual([{ below: null, step: 100 }]);
  });

  test.each<[string, unknown, RegExp]>([
    ['not a list', { below: null, step: 100 }, /must be a list/],
    ['empty', [], /at least one row/],
    ['a row that is not an object', [100], /row 1 must be an object/],
    ['a missing step', [{ below: null }], /row 1: step must be a positive whole number/],
    ['a zero step', [{ below: null, step: 0 }], /row 1: step must be a positive/],
    [
      'a fractional step',
      [
        { below: 100, step: 1.5 },
        { below: null, step: 2 },
      ],
      /row 1: step/,
    ],
    ['a step given as text', [{ below: null, step: '100' }], /row 1: step/],
    ['a last row with a bound', [{ below: 3000, step: 100 }], /row 1: the last row must have below: null/],
    [
      'an open-ended row before the last',
      [
        { below: null, step: 100 },
        { below: null, step: 200 },
      ],
      /row 1: only the last row/,
    ],
    [
      'a negative bound',
      [
        { below: -5, step: 100 },
        { below: null, step: 200 },
      ],
      /row 1: below must be a positive/,
    ],
    [
      'bounds that fall',
      [
        { below: 5000, step: 100 },
        { below: 3000, step: 200 },
        { below: null, step: 500 },
      ],
      /row 2: below must be greater than the row before \(5000\)/,
    ],
    [
      'equal bounds',
      [
        { below: 3000, step: 100 },
        { below: 3000, step: 200 },
        { below: null, step: 500 },
      ],
      /row 2: below must be greater/,
    ],
    ['unknown fields', [{ below: null, step: 100, rate: 2 }], /row 1 has unknown fields: rate/],
  ])('refuses %s', (_what, value, message) => {
    expect(() => parseIncrementTable(value)).toThrow(RangeError);
    expect(() => parseIncrementTable(value)).toThrow(message);
  });

  test('refuses more rows than any rate card needs', () => {
    const rows = Array.from({ length: MAX_INCREMENT_ROWS + 1 }, (_, i) => ({
      below: i === MAX_INCREMENT_ROWS ? null : (i + 1) * 100,
      step: 1,
    }));
    expect(() => parseIncrementTable(rows)).toThrow(/at most 50 rows/);
    expect(parseIncrementTable(rows.slice(1))).toHaveLength(MAX_INCREMENT_ROWS);
  });
});
