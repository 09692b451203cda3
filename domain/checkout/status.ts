/**
 * The checkout saga's states. Terminal: `completed` (settled), `cancelled` (compensated before
 * delivery), `returned` (refunded and restocked in the return window), `refunded` (refunded by support
 * before settlement without the goods coming back).
 */
export const ORDER_STATUSES = [
  'pending',
  'validating',
  'reserving',
  'charging',
  'confirmed',
  'dispatched',
  'delivered',
  'settling',
  'completed',
  'compensating',
  'cancelled',
  'returned',
  'refunded',
  'stuck',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const TERMINAL_ORDER_STATUSES: readonly OrderStatus[] = ['completed', 'cancelled', 'returned', 'refunded'];

export function isTerminal(status: string): boolean {
  return (TERMINAL_ORDER_STATUSES as readonly string[]).includes(status);
}

/** A buyer may cancel until the seller dispatches; support may cancel any time before settlement. */
export function buyerMayCancel(status: OrderStatus): boolean {
  return ['pending', 'validating', 'reserving', 'charging', 'confirmed'].includes(status);
}

export const DEFAULT_RETURN_WINDOW_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_DELIVERY_DEADLINE_MS = 14 * 24 * 3600 * 1000;

export const PAYOUT_BEHAVIOURS = ['ok', 'fails', 'flaky', 'pending-then-ok', 'pending-then-fails'] as const;
