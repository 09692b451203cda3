/**
 * `checkout-<orderId>`: validate → reserve stock → charge into escrow → confirm → wait for delivery
 * (deadline cancels) → return window (a return refunds and restocks) → settle → completed. Any
 * failure, cancel, return or refund runs the compensations of the steps in reverse order: refund
 * escrow, release stock, close the order. A step that keeps failing for technical reasons parks the
 * order as `stuck` until support sends `retryStep` (or cancels).
 *
 * The pieces: ./checkout/order.ts (carried state), ./checkout/messages.ts (what each action may do),
 * ./checkout/saga.ts (steps with their compensations), ./checkout/charge.ts (the charge step).
 */
import { CancellationScope, allHandlersFinished, condition } from '@temporalio/workflow';
import { ABORT_FINAL_STATUS, type CheckoutInput, type CheckoutState } from '../contracts/checkout';
import { listenForPaymentConfirmations } from './provider-payment';
import { patchedOrStartedWith } from './revision';
import { CheckoutAbort, abortReason } from './checkout/abort';
import { compensating, local, remote } from './checkout/proxies';
import { chargeBuyer } from './checkout/charge';
import { registerCheckoutMessages } from './checkout/messages';
import { CheckoutOrder } from './checkout/order';
import { createSaga } from './checkout/saga';

export { orderRefundWorkflow } from './checkout/refund';

/**
 * Validate, reserve, the wallet charge and the confirmation as ONE local activity (one transaction)
 * instead of four: runs that started before it replay the four steps. Runs started with a saga
 * revision (CheckoutInput.sagaRevision) place in one step without the marker.
 */
const PLACE_IN_ONE_STEP = 'checkout-place-in-one-step';

export async function checkoutWorkflow(input: CheckoutInput): Promise<CheckoutState> {
  const order = new CheckoutOrder(input);
  const paymentConfirmed = listenForPaymentConfirmations();
  registerCheckoutMessages(order);
  const { orderId, buyerId } = input;
  const { state } = order;
  const saga = createSaga(order);

  // Placing the order is undone by closing it with the abort's final status.
  const validate = saga.step('validate', 'validating', () => local.validateOrder({ orderId }), {
    name: 'close_order',
    run: (reason) =>
      compensating.recordOrderStatus({
        orderId,
        status: ABORT_FINAL_STATUS[reason.kind],
        eventKey: 'closed',
        event: ABORT_FINAL_STATUS[reason.kind],
        details: { code: reason.code, message: reason.message },
        actor: reason.by,
        failureCode: reason.code,
        failureMessage: reason.message,
      }),
  });
  // A return gives delivered stock back; any other abort releases only stock still held.
  const reserve = saga.step('reserve', 'reserving', () => local.reserveStock({ orderId }), {
    name: 'release_stock',
    run: (reason) => compensating.releaseReservation({ orderId, returned: reason.kind === 'return' }),
  });
  const charge = saga.step('charge', 'charging', chargeBuyer(order, paymentConfirmed), {
    name: 'refund',
    run: (reason) => compensating.refundEscrow({ orderId, buyerId, reason: reason.code, paymentId: state.paymentId }),
  });
  // The four steps above (and the confirmation) at once; a short wallet leaves the provider to pay.
  const place = saga.step('place', 'validating', () => local.placeOrder({ orderId, buyerId, amount: input.total }));
  const confirm = saga.step('confirm', null, () =>
    local.recordOrderStatus({ orderId, status: 'confirmed', eventKey: 'confirmed', event: 'confirmed' }),
  );
  const recordDispatch = saga.step('dispatch', null, () =>
    local.recordOrderStatus({
      orderId,
      status: 'dispatched',
      eventKey: 'dispatched',
      event: 'dispatched',
      actor: order.dispatchedBy ?? 'seller',
    }),
  );
  const recordDelivery = saga.step('deliver', null, () => local.recordDelivered({ orderId, actor: order.deliveredBy ?? 'seller' }));
  const settle = saga.step('settle', 'settling', () => remote.settleOrder({ orderId }));

  try {
    let confirmed = false;
    if (input.auctionLotId !== undefined) {
      // Sold at auction: priced, reserved and paid into escrow already; the compensations above
      // still give the money and stock back if the order is cancelled (it counts as confirmed from
      // the start: CheckoutOrder).
      state.fundingSource = 'wallet';
    } else if (patchedOrStartedWith(PLACE_IN_ONE_STEP, order.revision >= 1)) {
      confirmed = (await place()).charged;
      order.chargeRoute = confirmed ? 'wallet' : 'provider';
      state.fundingSource = order.chargeRoute;
      order.checkAbort();
      if (!confirmed) {
        await charge();
        order.checkAbort();
      }
    } else {
      await validate();
      order.checkAbort();
      await reserve();
      order.checkAbort();
      await charge();
      order.checkAbort();
    }
    if (!confirmed) await confirm();
    state.confirmed = true;
    order.setStatus('confirmed');

    await awaitDelivery(order, async () => {
      await recordDispatch();
      order.setStatus('dispatched');
    });
    await recordDelivery();
    state.delivered = true;
    order.setStatus('delivered');

    // The return window: a return (or a support refund) inside it compensates; otherwise settle.
    await condition(() => order.abort !== null, input.returnWindowMs);
    order.checkAbort();

    await settle();
    order.setStatus('completed');
    state.step = null;
  } catch (err) {
    await saga.compensate(abortReason(err));
  }
  await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  return state;
}

/**
 * Delivery, before the deadline (its absence cancels). Dispatch (optional) only ends the buyer's
 * right to cancel; it is recorded when it comes.
 */
async function awaitDelivery(order: CheckoutOrder, dispatched: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + order.input.deliveryDeadlineMs;
  let dispatchRecorded = false;
  const dispatchPending = () => order.state.dispatched && !dispatchRecorded;
  for (;;) {
    const left = deadline - Date.now();
    const woke = left > 0 && (await condition(() => order.deliveredBy !== null || order.abort !== null || dispatchPending(), left));
    order.checkAbort();
    if (order.deliveredBy !== null) return;
    if (!woke) throw new CheckoutAbort('cancel', 'delivery_deadline', 'not delivered before the delivery deadline');
    if (dispatchPending()) {
      dispatchRecorded = true;
      await dispatched();
    }
  }
}
