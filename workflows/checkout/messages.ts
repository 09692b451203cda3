/**
 * What each action may do to a checkout, and the handlers that take it. One rule per action decides
 * both ways in: an update (the API) is rejected with the rule's reason, a signal (the UI, the CLI)
 * that breaks the rule is ignored.
 */
import { condition, setHandler, type SignalDefinition } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import {
  awaitConfirmationUpdate,
  cancelSignal,
  cancelUpdate,
  checkoutStateQuery,
  legacyActionUpdates,
  markDeliveredSignal,
  markDeliveredUpdate,
  markDispatchedSignal,
  markDispatchedUpdate,
  refundSignal,
  refundUpdate,
  requestReturnSignal,
  requestReturnUpdate,
  retryStepUpdate,
  type CheckoutAction,
  type CheckoutActionInput,
  type CheckoutState,
} from '../../contracts/checkout';
import { buyerMayCancel, isTerminal } from '../../domain/checkout/status';
import { rejection } from '../../domain/rejection';
import { CheckoutAbort } from './abort';
import type { CheckoutOrder } from './order';

type Rule = (o: CheckoutOrder, a: CheckoutActionInput) => string | null;

/** Why an action is refused now, or null when it may go ahead. */
const rules: Record<CheckoutAction, Rule> = {
  cancel(o, a) {
    if (o.abort || o.settlingOrDone()) return 'the order can no longer be cancelled';
    if (a.role === 'support') return o.state.delivered ? 'the order was delivered: refund it instead' : null;
    if (o.state.dispatched || o.state.delivered || !buyerMayCancel(o.state.status === 'stuck' ? 'charging' : o.state.status)) {
      return 'the order has been dispatched and can no longer be cancelled';
    }
    return null;
  },
  dispatch(o) {
    if (o.abort || !o.state.confirmed || o.state.delivered || o.settlingOrDone())
      return 'only a confirmed, undelivered order can be dispatched';
    return null;
  },
  deliver(o) {
    if (o.abort || !o.state.confirmed || o.state.delivered || o.settlingOrDone()) {
      return 'only a confirmed, undelivered order can be marked delivered';
    }
    return null;
  },
  return(o) {
    if (o.abort || !o.state.delivered || o.settlingOrDone()) return 'only a delivered order inside its return window can be returned';
    return null;
  },
  refund(o) {
    if (o.abort || o.settlingOrDone()) return 'the order is settled or closed: refund it after settlement instead';
    return null;
  },
  retry(o) {
    return o.flow.stuck ? null : 'no step is stuck';
  },
};

/** What an accepted action does. */
const acts: Record<CheckoutAction, (o: CheckoutOrder, a: CheckoutActionInput) => void> = {
  cancel(o, a) {
    o.abort = new CheckoutAbort(
      'cancel',
      a.role === 'support' ? 'cancelled_by_support' : 'cancelled_by_buyer',
      a.reason ?? 'cancelled',
      a.by,
    );
  },
  dispatch(o, a) {
    o.state.dispatched = true;
    o.dispatchedBy = a.by;
  },
  deliver(o, a) {
    o.deliveredBy = a.by;
  },
  return(o, a) {
    o.abort = new CheckoutAbort('return', 'returned', a.reason ?? 'returned by the buyer', a.by);
  },
  refund(o, a) {
    o.abort = new CheckoutAbort('refund', 'refunded_by_support', a.reason ?? 'refunded by support', a.by);
  },
  retry(o, a) {
    o.flow.retry({ by: a.by, reason: a.reason });
  },
};

type ActionUpdate = UpdateDefinition<CheckoutState, [CheckoutActionInput]>;
type ActionSignal = SignalDefinition<[CheckoutActionInput]>;

/** Each action's signal (null: the shared `retryStep` of workflows/stuck.ts) and update. */
const ACTIONS: Array<[CheckoutAction, ActionSignal | null, ActionUpdate]> = [
  ['cancel', cancelSignal, cancelUpdate],
  ['dispatch', markDispatchedSignal, markDispatchedUpdate],
  ['deliver', markDeliveredSignal, markDeliveredUpdate],
  ['return', requestReturnSignal, requestReturnUpdate],
  ['refund', refundSignal, refundUpdate],
  ['retry', null, retryStepUpdate],
];

/** Registers every message handler of a checkout; call once, before the first step. */
export function registerCheckoutMessages(o: CheckoutOrder): void {
  // A signal may overtake our own history: the database (what the seller saw) can already say
  // `confirmed` while this run replays from before it (a worker died after the step's write). So a
  // delivery or dispatch signal that arrives early is kept and applied once the order is confirmed.
  const earlyOk = (name: CheckoutAction) =>
    (name === 'deliver' || name === 'dispatch') && !o.abort && !o.state.delivered && !o.settlingOrDone();
  for (const [name, signal, update] of ACTIONS) {
    if (signal) {
      setHandler(signal, (a: CheckoutActionInput) => {
        if (rules[name](o, a) === null || earlyOk(name)) acts[name](o, a);
      });
    }
    const handler = (a: CheckoutActionInput) => {
      acts[name](o, a);
      return o.state;
    };
    const validator = (a: CheckoutActionInput) => {
      const problem = rules[name](o, a);
      if (problem) throw rejection('conflict', 'action_rejected', problem, { action: name, status: o.state.status });
    };
    setHandler(update, handler, { validator });
    // The update's name before each action had one name: a checkout that accepted it must replay.
    setHandler(legacyActionUpdates[name], handler, { validator });
  }
  setHandler(checkoutStateQuery, () => o.view());
  setHandler(awaitConfirmationUpdate, async ({ timeoutMs }) => {
    const done = () => o.state.confirmed || isTerminal(o.state.status) || o.state.status === 'stuck';
    // timeoutMs 0: no timer (the caller bounds its own wait); every saga ends, so this always returns.
    if (timeoutMs > 0) await condition(done, timeoutMs);
    else await condition(done);
    return o.state;
  });
}
