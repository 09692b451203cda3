/**
 * The checkout saga's steps, each declared with its compensation beside it (medusa's
 * `createStep(id, invoke, compensate)`). Declaring a step registers its compensation at once, so
 * every compensation is registered before the first step runs: each is a no-op when its step never
 * happened — which also covers a step a killed worker DID run (a local activity whose result never
 * reached the history); compensating only what this history saw would leak it.
 */
import { ApplicationFailure, CancellationScope, workflowInfo, type ActivityFailure } from '@temporalio/workflow';
import { ABORT_FINAL_STATUS, type OrderStatus } from '../../contracts/checkout';
import { stepFailure } from '../stuck';
import { CheckoutAbort, isAbort, plain } from './abort';
import { businessCode, compensating, isBusinessFailure, local } from './proxies';
import type { CheckoutOrder } from './order';

export interface Compensation {
  name: string;
  run: (reason: CheckoutAbort) => Promise<unknown>;
}

/**
 * Runs one forward step. Steps always run to the end (non-cancellable) so a cancel can never race a
 * half-done charge. A failure that is not a business answer (an outage that outlasted its retries,
 * or bad data) parks the order as stuck until support retries; abandoning it — or any cancel while
 * it is stuck — cancels the order. A business answer aborts (the saga compensates).
 */
async function runStep<T>(o: CheckoutOrder, name: string, status: OrderStatus | null, fn: () => Promise<T>): Promise<T> {
  o.state.step = name;
  if (status) o.setStatus(status);
  let before: OrderStatus = o.state.status;
  try {
    return await o.flow.step(name, () => CancellationScope.nonCancellable(fn), {
      parkOn: (f) => !isBusinessFailure(f.type),
      onPark: async (stuck) => {
        before = o.state.status;
        await local.recordOrderStatus({
          orderId: o.input.orderId,
          status: 'stuck',
          eventKey: `stuck:${name}:${workflowInfo().historyLength}`,
          event: 'stuck',
          details: { step: name, error: stuck.reason },
        });
      },
      onResume: (decision) => {
        o.state.status = before;
        if (decision === 'retry' && status) o.setStatus(status);
      },
      decided: () => o.abort !== null,
      abandon: {
        meaning: 'cancels the order: the steps done so far are compensated (refund, stock released)',
        run: (d) => {
          throw (
            o.abort ??
            new CheckoutAbort('cancel', 'cancelled_by_support', d.reason ?? `abandoned by support at step ${name}`, d.by ?? 'support')
          );
        },
      },
    });
  } catch (err) {
    const failure = isAbort(err) ? null : stepFailure(err);
    if (failure && isBusinessFailure(failure.type)) {
      const cause = err instanceof ApplicationFailure ? err : ((err as ActivityFailure).cause as ApplicationFailure);
      throw new CheckoutAbort('cancel', businessCode(cause), cause.message);
    }
    throw err;
  }
}

export function createSaga(o: CheckoutOrder) {
  const compensations: Compensation[] = [];

  return {
    /** Declares a step (and registers its compensation now); returns the function that runs it. */
    step<T>(name: string, status: OrderStatus | null, invoke: () => Promise<T>, compensation?: Compensation): () => Promise<T> {
      if (compensation) {
        compensations.push(compensation);
        o.state.compensationsRegistered.push(compensation.name);
      }
      return () => runStep(o, name, status, invoke);
    },

    /**
     * Runs every registered compensation in reverse order, in a non-cancellable scope, after fencing
     * the order (status `compensating`, checked under its row lock by every money and stock step) so
     * no late retry of a step can land after them. A compensation is never skipped: abandoning a stuck
     * one runs it again without the free text the buyer or support gave (the one input a retry cannot
     * change, e.g. a NUL from the CLI).
     */
    async compensate(reason: CheckoutAbort): Promise<void> {
      o.state.failureCode = reason.code;
      o.state.failureMessage = reason.message;
      o.state.abort = { kind: reason.kind, code: reason.code, by: reason.by };
      await CancellationScope.nonCancellable(async () => {
        o.setStatus('compensating');
        o.state.step = 'compensate';
        await o.flow.step('compensate', () =>
          compensating.recordOrderStatus({
            orderId: o.input.orderId,
            status: 'compensating',
            eventKey: 'compensating',
            event: 'compensating',
            details: { code: reason.code },
          }),
        );
        for (const c of [...compensations].reverse()) {
          await o.flow.step(c.name, () => c.run(reason), {
            abandon: {
              meaning: 'runs the compensation again without the free-text reason',
              run: () => o.flow.step(c.name, () => c.run(plain(reason))),
            },
          });
          o.state.compensationsRun.push(c.name);
        }
        o.state.step = null;
        o.setStatus(ABORT_FINAL_STATUS[reason.kind]);
      });
    },
  };
}
