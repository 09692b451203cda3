/**
 * Why an exception exists. The API's schemas and the workflow's validators take their lists from
 * here, so a reason the API accepts is never refused later by the workflow, nor the other way round.
 */

/** Every reason an exception may carry. */
export const EXCEPTION_REASONS = ['vacation', 'special_request', 'system_pause', 'payment_failure', 'holiday'] as const;
export type KnownExceptionReason = (typeof EXCEPTION_REASONS)[number];

/**
 * Reasons a pause request may give, and so the pauses a resume may end. `payment_failure` and
 * `holiday` are set by the system and are not the customer's to start or end.
 */
export const PAUSE_REASONS = ['vacation', 'special_request', 'system_pause'] as const satisfies readonly KnownExceptionReason[];

/** Reasons a skip request may give (support may also enter a holiday for one subscription). */
export const SKIP_REASONS = ['special_request', 'vacation', 'holiday', 'system_pause'] as const satisfies readonly KnownExceptionReason[];

/** Reasons of an extra delivery or a quantity change. */
export const CHANGE_REASONS = ['special_request'] as const satisfies readonly KnownExceptionReason[];

/** Reasons of a regional holiday (never resumable by a customer, never credited). */
export const HOLIDAY_REASONS = ['holiday'] as const satisfies readonly KnownExceptionReason[];

/** The reason recorded when a request gives none. */
export const DEFAULT_REASON = {
  pause: 'vacation',
  skip: 'special_request',
  change: 'special_request',
  holiday: 'holiday',
} as const satisfies Record<string, KnownExceptionReason>;

/** Is `reason` one of `allowed`? (A type guard over the readonly lists above.) */
export function isAllowedReason<T extends string>(allowed: readonly T[], reason: unknown): reason is T {
  return typeof reason === 'string' && (allowed as readonly string[]).includes(reason);
}
