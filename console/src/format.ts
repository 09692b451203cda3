/** Paise as rupees, the way staff read amounts: ₹1,234.50. */
export function rupees(paise: number | null | undefined): string {
  if (paise === null || paise === undefined) return '—';
  const sign = paise < 0 ? '−' : '';
  return `${sign}₹${(Math.abs(paise) / 100).toLocaleString('en-IN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** An age in seconds as the largest unit or two: 3d 4h, 25m. */
export function age(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString('en-IN') : '—';
}
