/** Money is an integer number of paise. These helpers keep it that way. */
export type Paise = number;

export const PAISE_PER_RUPEE = 100;

export function isPaise(value: unknown): value is Paise {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

export function assertPaise(value: number, what = 'amount'): Paise {
  if (!isPaise(value)) throw new RangeError(`${what} must be a whole number of paise, got ${value}`);
  return value;
}

/** Splits `amount` by a rate in basis points, rounding down: the platform never over-charges. */
export function basisPoints(amount: Paise, bps: number): Paise {
  assertPaise(amount);
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000) throw new RangeError(`bps must be 0..10000, got ${bps}`);
  return Math.floor((amount * bps) / 10_000);
}

/** "₹1,234.50" in the Indian grouping, for messages only. */
export function formatRupees(amount: Paise): string {
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount);
  const rupees = Math.floor(abs / PAISE_PER_RUPEE).toString();
  const paise = (abs % PAISE_PER_RUPEE).toString().padStart(2, '0');
  const lastThree = rupees.slice(-3);
  const rest = rupees.slice(0, -3).replace(/\B(?=(\d{2})+(?!\d))/g, ',');
  return `${sign}₹${rest ? `${rest},${lastThree}` : lastThree}.${paise}`;
}
