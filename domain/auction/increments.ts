/**
 * The increment table: how far the next bid must rise above the current price. Each row covers the
 * prices below its `below` (null: no upper bound), so the table reads like the seller's rate card:
 * ₹1 below ₹30, ₹2 up to ₹50, and so on. Amounts in paise.
 */
export interface IncrementStep {
  below: number | null;
  step: number;
}
export type IncrementTable = IncrementStep[];

/** ₹1 below ₹30, ₹2 to ₹50, ₹5 to ₹100, ₹10 to ₹300, ₹20 to ₹1,000, ₹50 above. */
export const DEFAULT_INCREMENTS: IncrementTable = [
  { below: 3000, step: 100 },
  { below: 5000, step: 200 },
  { below: 10000, step: 500 },
  { below: 30000, step: 1000 },
  { below: 100000, step: 2000 },
  { below: null, step: 5000 },
];

/** More rows than any rate card needs; bounds the work a stored table can cause. */
export const MAX_INCREMENT_ROWS = 50;

const isPositiveSafeInteger = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/**
 * A table read from storage or a request, checked: a non-empty list of `{ below, step }` rows, each
 * step a positive whole number of paise, the `below` bounds rising strictly, and only the last row
 * open-ended (`below: null`) so every price has a step. Throws a RangeError that names the row.
 */
export function parseIncrementTable(value: unknown): IncrementTable {
  if (!Array.isArray(value)) throw new RangeError('increment table must be a list of { below, step } rows');
  if (value.length === 0) throw new RangeError('increment table must have at least one row');
  if (value.length > MAX_INCREMENT_ROWS)
    throw new RangeError(`increment table may have at most ${MAX_INCREMENT_ROWS} rows, got ${value.length}`);
  const table: IncrementTable = [];
  value.forEach((row: unknown, i) => {
    const at = `increment table row ${i + 1}`;
    if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new RangeError(`${at} must be an object { below, step }`);
    const extra = Object.keys(row).filter((k) => k !== 'below' && k !== 'step');
    if (extra.length) throw new RangeError(`${at} has unknown fields: ${extra.join(', ')}`);
    const { below, step } = row as { below?: unknown; step?: unknown };
    if (!isPositiveSafeInteger(step)) throw new RangeError(`${at}: step must be a positive whole number of paise, got ${String(step)}`);
    const last = i === value.length - 1;
    if (last) {
      if (below !== null) throw new RangeError(`${at}: the last row must have below: null (no upper bound), got ${String(below)}`);
    } else {
      if (below === null) throw new RangeError(`${at}: only the last row may have below: null`);
      if (!isPositiveSafeInteger(below))
        throw new RangeError(`${at}: below must be a positive whole number of paise, got ${String(below)}`);
      const previous = table[i - 1]?.below;
      if (previous != null && below <= previous) {
        throw new RangeError(`${at}: below must be greater than the row before (${previous}), got ${below}`);
      }
    }
    table.push({ below: below as number | null, step });
  });
  return table;
}

/** The step that applies at `price`: the first row whose bound lies above it. */
export function incrementAt(price: number, table: IncrementTable): number {
  if (table.length === 0) throw new RangeError('increment table is empty');
  for (const row of table) if (row.below === null || price < row.below) return row.step;
  // A table that parseIncrementTable did not check may lack the open-ended row: its last step goes on.
  return table[table.length - 1].step;
}
