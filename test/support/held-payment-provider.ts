import type { Db } from '../../db/knex';
import { FakePaymentProvider } from '../../infra/fake-payment-provider';
import type { PaymentProvider } from '../../infra/payment-provider';

export interface HeldPaymentProvider {
  provider: PaymentProvider;
  /** Set to let reads return the payment's real status. */
  answered: boolean;
  /** Reads of a payment so far. */
  polls: number;
}

/**
 * The sandbox provider held back: every payment reads `processing` until the test sets `answered`,
 * and no webhook is ever sent, so only a poll learns the outcome.
 */
export function heldPaymentProvider(db: Db): HeldPaymentProvider {
  const real = new FakePaymentProvider(db, { settleDelayMs: 0 });
  const held: HeldPaymentProvider = {
    answered: false,
    polls: 0,
    provider: {
      createPayment: (req) => real.createPayment(req),
      getPayment: async (id) => {
        held.polls++;
        const p = await real.getPayment(id);
        return held.answered ? p : { ...p, status: 'processing' };
      },
      refundPayment: (req) => real.refundPayment(req),
    },
  };
  return held;
}
