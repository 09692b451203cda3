/** Exact integer division helpers for non-negative safe integers (no float rounding). */

export function floorDiv(a: number, b: number): number {
  return (a - (a % b)) / b;
}

export function ceilDiv(a: number, b: number): number {
  const r = a % b;
  return r === 0 ? a / b : (a - r) / b + 1;
}
