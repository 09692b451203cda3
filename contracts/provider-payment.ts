/**
 * The one message every flow that waits for a provider payment answers: the signed webhook
 * (api/routes/webhooks.ts) tells the flow its payment settled. Top-up, checkout and subscription
 * renewals all wait through workflows/provider-payment.ts.
 */
import { defineSignal } from '@temporalio/workflow';

export interface PaymentConfirmed {
  paymentId: string;
}

export const paymentConfirmedSignal = defineSignal<[PaymentConfirmed]>('paymentConfirmed');

/** What a poll of the provider says about a payment. */
export type ProviderPaymentStatus = 'processing' | 'succeeded' | 'failed';
