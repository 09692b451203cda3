import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type SignalDefinition,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { CheckoutActivities } from '../activities/checkout';
import { buyerMayCancel, isTerminal, type OrderStatus } from '../domain/checkout/status';
import { formatRupees } from '../domain/money';
import { textProblem } from '../domain/text';
import { CustomerId, FlowStatus, OrderId, SellerId } from './search-attributes';
import { flowControl, isAbandoned, stepFailure } from './stuck';
import { retryStepSignal } from '../contracts/stuck';

export interface CheckoutInput {
  orderId: string;
  buyerId: string;
  sellerId: string;
  total: number;
  /** Charged when the wallet is short; null = wallet only. */
  paymentMethod: string | null;
  /** No `markDelivered` within this long after confirmation cancels and refunds the order. */
  deliveryDeadlineMs: number;
  /** How long after delivery the buyer may return; settlement happens when it closes. */
  returnWindowMs: number;
  /** First provider poll interval (doubles); tests use a few ms. */
  paymentPollMs?: number;
}

export type CheckoutAbortKind = 'cancel' | 'return' | 'refund';

export interface CheckoutState {
  orderId: string;
  status: OrderStatus;
  /** The step running (or stuck) right now. */
  step: string | null;
  stuckStep: string | null;
  stuckReason: string | null;
  /** The same as stuckReason (its older name, kept for callers that read it). */
  stuckError: string | null;
  fundingSource: 'wallet' | 'provider' | null;
  paymentId: string | null;
  confirmed: boolean;
  dispatched: boolean;
  delivered: boolean;
  compensationsRegistered: string[];
  compensationsRun: string[];
  abort: { kind: CheckoutAbortKind; code: string; by: string } | null;
  failureCode: string | null;
  failureMessage: string | null;
}

export interface CheckoutActionInput {
  by: string;
  /** Support may act where a buyer may not (cancel after dispatch, refund). */
  role?: 'buyer' | 'seller' | 'support';
  reason?: string;
}

/** Stable names: the API, the Temporal UI and `temporal workflow signal` all use these. */
export const checkoutCancelSignal = defineSignal<[CheckoutActionInput]>('cancel');
export const checkoutMarkDispatchedSignal = defineSignal<[CheckoutActionInput]>('markDispatched');
export const checkoutMarkDeliveredSignal = defineSignal<[CheckoutActionInput]>('markDelivered');
export const checkoutRequestReturnSignal = defineSignal<[CheckoutActionInput]>('requestReturn');
export const checkoutRefundSignal = defineSignal<[CheckoutActionInput]>('refund');
/** The shared `retryStep` of every flow (workflows/stuck.ts); `abandonStep` there cancels the order. */
export const checkoutRetryStepSignal = retryStepSignal;
export const checkoutPaymentConfirmedSignal = defineSignal<[{ paymentId: string }]>('paymentConfirmed');

/** The same actions as updates, so the API can tell the caller whether they were accepted. */
export const checkoutCancelUpdate = defineUpdate<CheckoutState, [CheckoutActionInput]>('cancelOrder');
export const checkoutDispatchUpdate = defineUpdate<CheckoutState, [CheckoutActionInput]>('dispatchOrder');
export const checkoutDeliverUpdate = defineUpdate<CheckoutState, [CheckoutActionInput]>('deliverOrder');
export const checkoutReturnUpdate = defineUpdate<CheckoutState, [CheckoutActionInput]>('returnOrder');
export const checkoutRefundUpdate = defineUpdate<CheckoutState, [CheckoutActionInput]>('refundOrder');
export const checkoutRetryStepUpdate = defineUpdate<CheckoutState, [CheckoutActionInput]>('retryStuckStep');
/** Returns once the order is confirmed (escrowed), has failed, or is stuck — or after `timeoutMs` (0: no limit). */
export const checkoutAwaitConfirmationUpdate = defineUpdate<CheckoutState, [{ timeoutMs: number }]>('awaitConfirmation');
export const checkoutStateQuery = defineQuery<CheckoutState>('state');

/** Failures that are answers, not outages: the saga compensates at once instead of parking as stuck. */
const BUSINESS_FAILURES: Record<string, string> = {
  CartInvalid: 'cart_invalid',
  OutOfStock: 'out_of_stock',
  PaymentDeclined: 'payment_declined',
  InsufficientFunds: 'insufficient_funds',
  OrderClosed: 'order_closed',
  OrderNotFound: 'order_not_found',
};
const BUSINESS_TYPES = Object.keys(BUSINESS_FAILURES);

// Short database steps run as local activities: no extra round trip to the Temporal server per step.
const local = proxyLocalActivities<CheckoutActivities>({
  startToCloseTimeout: '10s',
  localRetryThreshold: '5s',
  retry: {
    initialInterval: '100ms',
    backoffCoefficient: 2,
    maximumInterval: '2s',
    maximumAttempts: 6,
    nonRetryableErrorTypes: BUSINESS_TYPES,
  },
});
// Calls to the outside world and the settlement run as ordinary activities.
const remote = proxyActivities<CheckoutActivities>({
  startToCloseTimeout: '20s',
  retry: {
    initialInterval: '200ms',
    backoffCoefficient: 2,
    maximumInterval: '10s',
    maximumAttempts: 8,
    nonRetryableErrorTypes: BUSINESS_TYPES,
  },
});
// Compensations must eventually happen: retried without limit (ops see FlowStatus=compensating).
const compensate = proxyActivities<CheckoutActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s' },
});

class CheckoutAbort extends Error {
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

const isAbort = (err: unknown): err is CheckoutAbort => (err as { checkoutAbort?: boolean } | null)?.checkoutAbort === true;

const FINAL_STATUS: Record<CheckoutAbortKind, OrderStatus> = { cancel: 'cancelled', return: 'returned', refund: 'refunded' };

/** The abort without its free text: what a stuck compensation runs again with when support abandons it. */
const plain = (r: CheckoutAbort) =>
  new CheckoutAbort(r.kind, r.code, `${FINAL_STATUS[r.kind]} (${r.code})`, textProblem(r.by, 200) ? 'support' : r.by);

/**
 * `checkout-<orderId>`: validate → reserve stock → charge into escrow → confirm → wait for delivery
 * (deadline cancels) → return window (a return refunds and restocks) → settle → completed.
 * Each compensation is registered BEFORE its step runs, is idempotent and a no-op when its step never
 * happened, and they run in reverse order in a non-cancellable scope: refund escrow, release stock,
 * close the order. Steps themselves always run to the end (non-cancellable) so a cancel can never
 * race a half-done charge. A step that keeps failing for technical reasons parks the order as `stuck`
 * until support sends `retryStep` (or cancels).
 */
export async function checkoutWorkflow(input: CheckoutInput): Promise<CheckoutState> {
  const state: CheckoutState = {
    orderId: input.orderId,
    status: 'pending',
    step: null,
    stuckStep: null,
    stuckReason: null,
    stuckError: null,
    fundingSource: null,
    paymentId: null,
    confirmed: false,
    dispatched: false,
    delivered: false,
    compensationsRegistered: [],
    compensationsRun: [],
    abort: null,
    failureCode: null,
    failureMessage: null,
  };
  let abort: CheckoutAbort | null = null;
  let deliveredBy: string | null = null;
  let dispatchedBy: string | null = null;
  let confirmedPaymentId: string | null = null;
  let chargeRoute: 'wallet' | 'provider' | null = null;

  // FlowStatus is upserted on every status a flow can rest in (and so be found by ops in the UI):
  // the sub-second hops validating → reserving → charging (wallet) are not, as each upsert is a
  // visibility write on the Temporal server; a provider charge, which can wait, is.
  const TRANSIENT: readonly OrderStatus[] = ['validating', 'reserving'];
  let shownStatus: string | null = null;
  const show = (status: string) => {
    shownStatus = status;
    upsertSearchAttributes([{ key: FlowStatus, value: status }]);
  };
  const setStatus = (status: OrderStatus) => {
    state.status = status;
    if (TRANSIENT.includes(status) || status === shownStatus) return;
    if (status === 'charging' && chargeRoute !== 'provider') return;
    show(status);
    flow.summary(`Order ${input.orderId} of ${formatRupees(input.total)}: ${status}${state.failureCode ? ` (${state.failureCode})` : ''}`);
  };
  // A stuck step parks the order (FlowStatus and order row `stuck`) through the shared mechanism.
  const flow = flowControl({
    flowType: 'checkout',
    state,
    // While compensating the order stays `compensating` (its fence); FlowStatus alone says stuck.
    show: (status) => {
      if (status === 'stuck' && state.step !== 'compensate') setStatus('stuck');
      else if (status !== shownStatus) show(status);
    },
  });
  // The API starts the flow with these set; a flow started another way (CLI, tests) gets them here.
  const given = workflowInfo().typedSearchAttributes;
  if (given.get(OrderId) !== input.orderId || given.get(CustomerId) !== input.buyerId || given.get(SellerId) !== input.sellerId) {
    upsertSearchAttributes([
      { key: OrderId, value: input.orderId },
      { key: CustomerId, value: input.buyerId },
      { key: SellerId, value: input.sellerId },
      { key: FlowStatus, value: 'pending' },
    ]);
  }
  shownStatus = given.get(FlowStatus) ?? 'pending';

  // --- what each action may do, as validators (updates reject; signals ignore) -------------------
  const settlingOrDone = () => state.status === 'settling' || isTerminal(state.status) || state.status === 'compensating';
  const rules = {
    cancel(a: CheckoutActionInput): string | null {
      if (abort || settlingOrDone()) return 'the order can no longer be cancelled';
      if (a.role === 'support') return state.delivered ? 'the order was delivered: refund it instead' : null;
      if (state.dispatched || state.delivered || !buyerMayCancel(state.status === 'stuck' ? 'charging' : state.status)) {
        return 'the order has been dispatched and can no longer be cancelled';
      }
      return null;
    },
    dispatch(): string | null {
      if (abort || !state.confirmed || state.delivered || settlingOrDone()) return 'only a confirmed, undelivered order can be dispatched';
      return null;
    },
    deliver(): string | null {
      if (abort || !state.confirmed || state.delivered || settlingOrDone())
        return 'only a confirmed, undelivered order can be marked delivered';
      return null;
    },
    return(): string | null {
      if (abort || !state.delivered || settlingOrDone()) return 'only a delivered order inside its return window can be returned';
      return null;
    },
    refund(): string | null {
      if (abort || settlingOrDone()) return 'the order is settled or closed: refund it after settlement instead';
      return null;
    },
    retry(): string | null {
      return flow.stuck ? null : 'no step is stuck';
    },
  };
  const act = {
    cancel(a: CheckoutActionInput) {
      abort = new CheckoutAbort(
        'cancel',
        a.role === 'support' ? 'cancelled_by_support' : 'cancelled_by_buyer',
        a.reason ?? 'cancelled',
        a.by,
      );
    },
    dispatch(a: CheckoutActionInput) {
      state.dispatched = true;
      dispatchedBy = a.by;
    },
    deliver(a: CheckoutActionInput) {
      deliveredBy = a.by;
    },
    return(a: CheckoutActionInput) {
      abort = new CheckoutAbort('return', 'returned', a.reason ?? 'returned by the buyer', a.by);
    },
    refund(a: CheckoutActionInput) {
      abort = new CheckoutAbort('refund', 'refunded_by_support', a.reason ?? 'refunded by support', a.by);
    },
    retry(a: CheckoutActionInput) {
      flow.retry({ by: a.by, reason: a.reason });
    },
  };
  type Name = keyof typeof rules;
  // A signal may overtake our own history: the database (what the seller saw) can already say
  // `confirmed` while this run replays from before it (a worker died after the step's write). So a
  // delivery or dispatch signal that arrives early is kept and applied once the order is confirmed.
  const earlyOk = (name: Name) => (name === 'deliver' || name === 'dispatch') && !abort && !state.delivered && !settlingOrDone();
  const both = (name: Name, sig: SignalDefinition<[CheckoutActionInput]>, upd: UpdateDefinition<CheckoutState, [CheckoutActionInput]>) => {
    setHandler(sig, (a: CheckoutActionInput) => {
      if (rules[name](a) === null || earlyOk(name)) act[name](a);
    });
    setHandler(
      upd,
      (a: CheckoutActionInput) => {
        act[name](a);
        return state;
      },
      {
        validator: (a: CheckoutActionInput) => {
          const problem = rules[name](a);
          if (problem) throw new Error(problem);
        },
      },
    );
  };
  both('cancel', checkoutCancelSignal, checkoutCancelUpdate);
  both('dispatch', checkoutMarkDispatchedSignal, checkoutDispatchUpdate);
  both('deliver', checkoutMarkDeliveredSignal, checkoutDeliverUpdate);
  both('return', checkoutRequestReturnSignal, checkoutReturnUpdate);
  both('refund', checkoutRefundSignal, checkoutRefundUpdate);
  // The `retryStep` signal itself is the shared one (workflows/stuck.ts); this is the API's update.
  setHandler(
    checkoutRetryStepUpdate,
    (a: CheckoutActionInput) => {
      act.retry(a);
      return state;
    },
    {
      validator: (_a: CheckoutActionInput) => {
        const problem = rules.retry();
        if (problem) throw new Error(problem);
      },
    },
  );
  setHandler(checkoutPaymentConfirmedSignal, ({ paymentId }) => {
    confirmedPaymentId = paymentId;
  });
  setHandler(checkoutStateQuery, () => ({
    ...state,
    stuckError: state.stuckReason,
    abort: abort ? { kind: abort.kind, code: abort.code, by: abort.by } : null,
  }));
  setHandler(checkoutAwaitConfirmationUpdate, async ({ timeoutMs }) => {
    const done = () => state.confirmed || isTerminal(state.status) || state.status === 'stuck';
    // timeoutMs 0: no timer (the caller bounds its own wait); every saga ends, so this always returns.
    if (timeoutMs > 0) await condition(done, timeoutMs);
    else await condition(done);
    return state;
  });

  // --- steps --------------------------------------------------------------------------------------
  const checkAbort = () => {
    if (abort) throw abort;
    if (CancellationScope.current().consideredCancelled)
      throw new CheckoutAbort('cancel', 'workflow_cancelled', 'the workflow was cancelled');
  };

  // A forward step parks on any failure that is not a business answer (an outage that outlasted
  // its retries, or bad data). Abandoning it — or any cancel while it is stuck — cancels the order.
  async function runStep<T>(name: string, status: OrderStatus | null, fn: () => Promise<T>): Promise<T> {
    state.step = name;
    if (status) setStatus(status);
    let before: OrderStatus = state.status;
    try {
      return await flow.step(name, () => CancellationScope.nonCancellable(fn), {
        parkOn: (f) => !(f.type && BUSINESS_FAILURES[f.type]),
        onPark: async (stuck) => {
          before = state.status;
          await local.recordOrderStatus({
            orderId: input.orderId,
            status: 'stuck',
            eventKey: `stuck:${name}:${workflowInfo().historyLength}`,
            event: 'stuck',
            details: { step: name, error: stuck.reason },
          });
        },
        onResume: (decision) => {
          state.status = before;
          if (decision === 'retry' && status) setStatus(status);
        },
        decided: () => abort !== null,
        abandon: {
          meaning: 'cancels the order: the steps done so far are compensated (refund, stock released)',
          run: (d) => {
            throw (
              abort ??
              new CheckoutAbort('cancel', 'cancelled_by_support', d.reason ?? `abandoned by support at step ${name}`, d.by ?? 'support')
            );
          },
        },
      });
    } catch (err) {
      const failure = isAbort(err) ? null : stepFailure(err);
      if (failure?.type && BUSINESS_FAILURES[failure.type]) {
        const cause = err instanceof ApplicationFailure ? err : ((err as ActivityFailure).cause as ApplicationFailure);
        const detail = (cause.details?.[0] ?? {}) as { code?: string };
        throw new CheckoutAbort('cancel', detail.code ?? BUSINESS_FAILURES[failure.type], cause.message);
      }
      throw err;
    }
  }

  const compensations: Array<{ name: string; run: (reason: CheckoutAbort) => Promise<unknown> }> = [];
  const register = (name: string, run: (reason: CheckoutAbort) => Promise<unknown>) => {
    compensations.push({ name, run });
    state.compensationsRegistered.push(name);
  };

  let paymentSettled = false;
  async function charge(): Promise<void> {
    if (chargeRoute === null) {
      const { charged } = await local.chargeWallet({ orderId: input.orderId, buyerId: input.buyerId, amount: input.total });
      chargeRoute = charged ? 'wallet' : 'provider';
    }
    state.fundingSource = chargeRoute;
    if (chargeRoute === 'wallet') return;
    if (!input.paymentMethod)
      throw new CheckoutAbort('cancel', 'insufficient_funds', 'the wallet is short and no payment method was given');
    setStatus('charging');
    if (!state.paymentId) {
      const payment = await remote.chargeProvider({ orderId: input.orderId, amount: input.total, paymentMethod: input.paymentMethod });
      state.paymentId = payment.id;
      paymentSettled = payment.status === 'succeeded';
    }
    let pollEvery = input.paymentPollMs ?? 1_000;
    while (!paymentSettled) {
      if (await condition(() => confirmedPaymentId === state.paymentId, pollEvery)) break;
      const payment = await remote.getProviderPayment(state.paymentId);
      if (payment.status === 'failed') throw new CheckoutAbort('cancel', 'payment_failed', 'the provider reported the payment failed');
      paymentSettled = payment.status === 'succeeded';
      pollEvery = Math.min(pollEvery * 2, 60_000);
    }
    paymentSettled = true;
    await local.creditEscrowFromProvider({ orderId: input.orderId, amount: input.total, paymentId: state.paymentId });
  }

  try {
    // Every compensation is registered before the first step. Each is a no-op when its step never
    // happened — which also covers a step a killed worker DID run (a local activity whose result
    // never reached the history): compensating only what this history saw would leak it.
    register('close_order', (reason) =>
      compensate.recordOrderStatus({
        orderId: input.orderId,
        status: FINAL_STATUS[reason.kind],
        eventKey: 'closed',
        event: FINAL_STATUS[reason.kind],
        details: { code: reason.code, message: reason.message },
        actor: reason.by,
        failureCode: reason.code,
        failureMessage: reason.message,
      }),
    );
    // A return gives delivered stock back; any other abort releases only stock still held.
    register('release_stock', (reason) => compensate.releaseReservation({ orderId: input.orderId, returned: reason.kind === 'return' }));
    register('refund', (reason) =>
      compensate.refundEscrow({ orderId: input.orderId, buyerId: input.buyerId, reason: reason.code, paymentId: state.paymentId }),
    );
    await runStep('validate', 'validating', () => local.validateOrder({ orderId: input.orderId }));
    checkAbort();

    await runStep('reserve', 'reserving', () => local.reserveStock({ orderId: input.orderId }));
    checkAbort();

    await runStep('charge', 'charging', charge);
    checkAbort();

    await runStep('confirm', null, () =>
      local.recordOrderStatus({ orderId: input.orderId, status: 'confirmed', eventKey: 'confirmed', event: 'confirmed' }),
    );
    state.confirmed = true;
    setStatus('confirmed');

    // Delivery, before the deadline. Dispatch (optional) only ends the buyer's right to cancel.
    const deadline = Date.now() + input.deliveryDeadlineMs;
    let dispatchRecorded = false;
    for (;;) {
      const left = deadline - Date.now();
      const woke =
        left > 0 && (await condition(() => deliveredBy !== null || abort !== null || (state.dispatched && !dispatchRecorded), left));
      checkAbort();
      if (deliveredBy !== null) break;
      if (!woke) throw new CheckoutAbort('cancel', 'delivery_deadline', 'not delivered before the delivery deadline');
      if (state.dispatched && !dispatchRecorded) {
        dispatchRecorded = true;
        await runStep('dispatch', null, () =>
          local.recordOrderStatus({
            orderId: input.orderId,
            status: 'dispatched',
            eventKey: 'dispatched',
            event: 'dispatched',
            actor: dispatchedBy ?? 'seller',
          }),
        );
        setStatus('dispatched');
      }
    }
    await runStep('deliver', null, () => local.recordDelivered({ orderId: input.orderId, actor: deliveredBy ?? 'seller' }));
    state.delivered = true;
    setStatus('delivered');

    // The return window: a return (or a support refund) inside it compensates; otherwise settle.
    await condition(() => abort !== null, input.returnWindowMs);
    checkAbort();

    await runStep('settle', 'settling', () => remote.settleOrder({ orderId: input.orderId }));
    setStatus('completed');
    state.step = null;
  } catch (err) {
    const reason = isAbort(err)
      ? err
      : isCancellation(err)
        ? new CheckoutAbort('cancel', 'workflow_cancelled', 'the workflow was cancelled')
        : new CheckoutAbort('cancel', 'internal_error', err instanceof Error ? err.message : String(err));
    state.failureCode = reason.code;
    state.failureMessage = reason.message;
    state.abort = { kind: reason.kind, code: reason.code, by: reason.by };
    await CancellationScope.nonCancellable(async () => {
      setStatus('compensating');
      state.step = 'compensate';
      // First fence the order (status `compensating`, under its row lock in every money/stock step),
      // so no late retry of a step can land after the compensations below have run.
      await flow.step('compensate', () =>
        compensate.recordOrderStatus({
          orderId: input.orderId,
          status: 'compensating',
          eventKey: 'compensating',
          event: 'compensating',
          details: { code: reason.code },
        }),
      );
      // A compensation is never skipped. Abandoning a stuck one runs it again without the free text
      // the buyer or support gave (the one input a retry cannot change, e.g. a NUL from the CLI).
      for (const c of [...compensations].reverse()) {
        await flow.step(c.name, () => c.run(reason), {
          abandon: {
            meaning: 'runs the compensation again without the free-text reason',
            run: () => flow.step(c.name, () => c.run(plain(reason))),
          },
        });
        state.compensationsRun.push(c.name);
      }
      state.step = null;
      setStatus(FINAL_STATUS[reason.kind]);
    });
  }
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  return state;
}

export interface OrderRefundInput {
  refundId: string;
  orderId: string;
  amount: number;
}

/**
 * `refund-<refundId>`: a refund after settlement (the checkout workflow has finished). One activity,
 * keyed by the refund, retried until it lands; a refund larger than what is left is rejected.
 */
export async function orderRefundWorkflow(input: OrderRefundInput): Promise<{ status: 'succeeded' | 'rejected'; message?: string }> {
  const refunds = proxyActivities<CheckoutActivities>({
    startToCloseTimeout: '20s',
    retry: {
      initialInterval: '200ms',
      backoffCoefficient: 2,
      maximumInterval: '30s',
      nonRetryableErrorTypes: ['RefundTooLarge', 'NotSettled', 'OrderNotFound'],
    },
  });
  upsertSearchAttributes([
    { key: OrderId, value: input.orderId },
    { key: FlowStatus, value: 'refunding' },
  ]);
  const flow = flowControl({ flowType: 'refund' });
  const summary = (status: string) => `Refund ${input.refundId} of ${formatRupees(input.amount)} on order ${input.orderId}: ${status}`;
  flow.summary(summary('refunding'));
  try {
    // Bad data parks the refund (stuck); abandoning it rejects the refund with nothing moved.
    await flow.step('refund', () => refunds.refundAfterSettlement(input), flow.giveUp('ends the refund rejected; nothing is refunded'));
  } catch (err) {
    if (isAbandoned(err)) {
      flow.status('rejected', summary('rejected (abandoned by support)'));
      return { status: 'rejected', message: 'abandoned by support: nothing was refunded' };
    }
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
      flow.status('rejected', summary(`rejected (${err.cause.type ?? 'error'})`));
      return { status: 'rejected', message: err.cause.message };
    }
    throw err;
  }
  flow.status('refunded', summary('refunded'));
  return { status: 'succeeded' };
}
