/**
 * The charge step: the buyer's wallet pays into escrow; when it is short, the payment method is
 * charged and the saga waits for the provider (webhook or poll, the shared helper) before the money
 * lands in escrow.
 */
import type { CheckoutOrder } from './order';
import { awaitProviderPayment } from '../provider-payment';
import { CheckoutAbort } from './abort';
import { local, remote } from './proxies';

/** Provider polls start at the input's `paymentPollMs` and double up to this. */
const MAX_POLL_MS = 60_000;

/** The step's body; safe to run again after a park (each part remembers it is done). */
export function chargeBuyer(o: CheckoutOrder, confirmed: (paymentId: string | null) => boolean): () => Promise<void> {
  let paymentSettled = false;
  return async () => {
    const { input, state } = o;
    if (o.chargeRoute === null) {
      const { charged } = await local.chargeWallet({ orderId: input.orderId, buyerId: input.buyerId, amount: input.total });
      o.chargeRoute = charged ? 'wallet' : 'provider';
    }
    state.fundingSource = o.chargeRoute;
    if (o.chargeRoute === 'wallet') return;
    if (!input.paymentMethod)
      throw new CheckoutAbort('cancel', 'insufficient_funds', 'the wallet is short and no payment method was given');
    o.setStatus('charging');
    if (!state.paymentId) {
      const payment = await remote.chargeProvider({ orderId: input.orderId, amount: input.total, paymentMethod: input.paymentMethod });
      state.paymentId = payment.id;
      paymentSettled = payment.status === 'succeeded';
    }
    const paymentId = state.paymentId;
    if (!paymentSettled) {
      const outcome = await awaitProviderPayment({
        confirmed: () => confirmed(paymentId),
        poll: async () => (await remote.getProviderPayment(paymentId)).status,
        firstPollMs: input.paymentPollMs ?? 1_000,
        maxPollMs: MAX_POLL_MS,
      });
      if (outcome === 'failed') throw new CheckoutAbort('cancel', 'payment_failed', 'the provider reported the payment failed');
    }
    paymentSettled = true;
    await local.creditEscrowFromProvider({ orderId: input.orderId, amount: input.total, paymentId });
  };
}
