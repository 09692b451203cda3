/**
 * Razorpay's webhook scheme: `X-Razorpay-Signature` is the hex HMAC-SHA256 of the raw request body
 * with the webhook secret (Dashboard → Webhooks), and `X-Razorpay-Event-Id` is the same on every
 * retry of one event. There is no signed timestamp, so replays are stopped by the event-id dedupe.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const RAZORPAY_SIGNATURE_HEADER = 'x-razorpay-signature';
export const RAZORPAY_EVENT_ID_HEADER = 'x-razorpay-event-id';

/** The events Mandi acts on (enable these in the Dashboard). */
export const RAZORPAY_EVENTS = [
  'payment.captured',
  'payment.failed',
  'order.paid',
  'refund.processed',
  'refund.failed',
  'token.paused',
  'token.cancelled',
  'payout.processed',
  'payout.reversed',
  'payout.failed',
  'payout.updated',
] as const;
export type RazorpayEventName = (typeof RAZORPAY_EVENTS)[number];

export function razorpaySignature(secret: string, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

/** Constant-time check of the header against the body's HMAC. */
export function verifyRazorpaySignature(secret: string, rawBody: Buffer | undefined, header: string | undefined): boolean {
  if (!rawBody || !header || !/^[0-9a-f]{64}$/.test(header)) return false;
  return timingSafeEqual(Buffer.from(razorpaySignature(secret, rawBody), 'hex'), Buffer.from(header, 'hex'));
}
