/**
 * Validation rules that both the API (request schemas) and workflows (update validators) apply,
 * kept here once so the two can never disagree.
 */
export { DEFAULT_CUTOFF, DEFAULT_TIMEZONE } from './schedule/timezone';
export { CHANGE_REASONS, EXCEPTION_REASONS, PAUSE_REASONS, SKIP_REASONS } from './schedule/reasons';

/** A saved payment method is referenced by its provider token, never by card or UPI details. */
export const PAYMENT_METHOD_TOKEN = /^pm_[a-z0-9_]{1,40}$/;
export const PAYMENT_METHOD_HINT = 'must be a payment-method token such as pm_ok';
export const isPaymentMethodToken = (value: unknown): value is string => typeof value === 'string' && PAYMENT_METHOD_TOKEN.test(value);
