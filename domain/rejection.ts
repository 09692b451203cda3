/**
 * One vocabulary for "no" across Mandi. A business rejection — an update validator refusing a
 * change, an activity refusing bad business input — is an ApplicationFailure of type `Rejected`
 * whose details carry `{ kind, code, details }`. Workflows, activities and the API use only
 * `rejection()` to raise one and `readRejection()` to read one, so the HTTP status of a rejection
 * depends on its kind alone (api/errors.ts), never on which flow said it or on its message text.
 */
import { ApplicationFailure } from '@temporalio/common';

export const REJECTED = 'Rejected';

/**
 * - `invalid`: the request is well formed but breaks a business rule of the entity (HTTP 422),
 * - `conflict`: the entity's current state does not allow it (HTTP 409),
 * - `not_found`: the thing it refers to does not exist (HTTP 404).
 */
export type RejectionKind = 'invalid' | 'conflict' | 'not_found';

export interface Rejection {
  kind: RejectionKind;
  /** Machine-readable, snake_case: what clients branch on. */
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/** A non-retryable failure that says no; throw it from a validator, a handler or an activity. */
export function rejection(kind: RejectionKind, code: string, message: string, details: Record<string, unknown> = {}): ApplicationFailure {
  return ApplicationFailure.create({ type: REJECTED, message, nonRetryable: true, details: [{ kind, code, details }] });
}

const KINDS: readonly RejectionKind[] = ['invalid', 'conflict', 'not_found'];

/**
 * The rejection inside an error, wherever it was raised: thrown directly, from an activity
 * (ActivityFailure → cause), or from an update (WorkflowUpdateFailedError → cause → …).
 */
export function readRejection(err: unknown): Rejection | null {
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    if (!(e instanceof ApplicationFailure) || e.type !== REJECTED) continue;
    const carried = (e.details?.[0] ?? {}) as Partial<Rejection>;
    const kind = KINDS.includes(carried.kind as RejectionKind) ? (carried.kind as RejectionKind) : 'conflict';
    const details = carried.details && typeof carried.details === 'object' ? carried.details : {};
    return { kind, code: typeof carried.code === 'string' ? carried.code : 'rejected', message: e.message, details };
  }
  return null;
}
