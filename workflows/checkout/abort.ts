/** Why a checkout saga stops going forward, and how that reason is carried to its compensations. */
import { isCancellation } from '@temporalio/workflow';
import { ABORT_FINAL_STATUS, type CheckoutAbortKind } from '../../contracts/checkout';
import { textProblem } from '../../domain/text';

export class CheckoutAbort extends Error {
  /** A marker rather than `instanceof`, which does not survive the workflow bundle's Error subclassing. */
  readonly checkoutAbort = true;
  constructor(
    readonly kind: CheckoutAbortKind,
    readonly code: string,
    message: string,
    readonly by = 'system',
  ) {
    super(message);
  }
}

export const isAbort = (err: unknown): err is CheckoutAbort => (err as { checkoutAbort?: boolean } | null)?.checkoutAbort === true;

/** The abort without its free text: what a stuck compensation runs again with when support abandons it. */
export const plain = (r: CheckoutAbort) =>
  new CheckoutAbort(r.kind, r.code, `${ABORT_FINAL_STATUS[r.kind]} (${r.code})`, textProblem(r.by, 200) ? 'support' : r.by);

export const workflowCancelled = () => new CheckoutAbort('cancel', 'workflow_cancelled', 'the workflow was cancelled');

/** Whatever stopped the steps, as the reason the compensations run with. */
export function abortReason(err: unknown): CheckoutAbort {
  if (isAbort(err)) return err;
  if (isCancellation(err)) return workflowCancelled();
  return new CheckoutAbort('cancel', 'internal_error', err instanceof Error ? err.message : String(err));
}
