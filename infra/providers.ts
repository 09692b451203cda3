/**
 * Which money rails this deployment uses, chosen once from the configuration (PAYMENT_PROVIDER,
 * PAYOUT_PROVIDER; validated in app/config.ts): the sandbox fakes, or Razorpay and RazorpayX.
 */
import type { Config } from '../app/config';
import type { Db } from '../db/knex';
import { FakePaymentProvider } from './fake-payment-provider';
import { FakePayoutProvider } from './fake-payout-provider';
import type { PaymentProvider } from './payment-provider';
import type { PayoutProvider } from './payout-provider';
import { RazorpayPaymentProvider, razorpayClient } from './razorpay/payment-provider';
import { RazorpayXPayoutProvider } from './razorpayx/payout-provider';

export interface MoneyRails {
  payments: PaymentProvider;
  payouts: PayoutProvider;
}

type RailsConfig = Pick<
  Config,
  | 'PAYMENT_PROVIDER'
  | 'PAYOUT_PROVIDER'
  | 'PSP_WEBHOOK_SECRET'
  | 'RAZORPAY_KEY_ID'
  | 'RAZORPAY_KEY_SECRET'
  | 'RAZORPAY_API_URL'
  | 'RAZORPAY_TIMEOUT_MS'
  | 'RAZORPAYX_ACCOUNT_NUMBER'
>;

const required = (value: string | undefined, name: string): string => {
  // app/config.ts already refuses to start without it; this keeps the types honest.
  if (!value) throw new Error(`${name} is required for the chosen provider`);
  return value;
};

export function createMoneyRails(config: RailsConfig, db: Db, publicUrl: string): MoneyRails {
  const razorpay = () => ({
    keyId: required(config.RAZORPAY_KEY_ID, 'RAZORPAY_KEY_ID'),
    keySecret: required(config.RAZORPAY_KEY_SECRET, 'RAZORPAY_KEY_SECRET'),
    apiUrl: config.RAZORPAY_API_URL,
    timeoutMs: config.RAZORPAY_TIMEOUT_MS,
  });
  const payments: PaymentProvider =
    config.PAYMENT_PROVIDER === 'razorpay'
      ? new RazorpayPaymentProvider(razorpayClient(razorpay()))
      : new FakePaymentProvider(db, { webhookUrl: `${publicUrl}/v1/webhooks/psp`, webhookSecret: config.PSP_WEBHOOK_SECRET });
  const payouts: PayoutProvider =
    config.PAYOUT_PROVIDER === 'razorpayx'
      ? new RazorpayXPayoutProvider({ ...razorpay(), accountNumber: required(config.RAZORPAYX_ACCOUNT_NUMBER, 'RAZORPAYX_ACCOUNT_NUMBER') })
      : new FakePayoutProvider(db);
  return { payments, payouts };
}
