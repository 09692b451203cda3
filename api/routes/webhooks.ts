import { timingSafeEqual } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { paymentConfirmedSignal } from '../../contracts/provider-payment';
import { claimWebhookEvent, findPaymentFlow, findPayoutFlow, type PaymentFlow } from '../../db/webhooks';
import { reversePaidPayout } from '../../db/payouts';
import { payoutPollNowSignal, payoutWorkflowId } from '../../contracts/payout';
import { mandateStatusSignal, subscriptionWorkflowId } from '../../contracts/subscription';
import { setMandateStatusByToken } from '../../db/mandates';
import { WEBHOOK_SIGNATURE_HEADER, webhookHmac } from '../../infra/payment-provider';
import {
  RAZORPAY_EVENTS,
  RAZORPAY_EVENT_ID_HEADER,
  RAZORPAY_SIGNATURE_HEADER,
  verifyRazorpaySignature,
} from '../../infra/razorpay/webhook';
import type { ApiDeps } from '../deps';
import { ApiError } from '../errors';
import type { ApiRouter } from '../router';
import { WebhookReceiptSchema, type WebhookReceipt } from '../views/webhooks';

// Not strict: the provider echoes metadata and may add fields, and rejecting its events over
// that would make it retry them forever. Nothing beyond these fields is read; in particular
// any workflow id in the metadata is ignored — the flow is found from our own records.
/** Larger than any payment the sandbox provider takes (paise): a bigger amount is not one of its events. */
const MAX_PROVIDER_AMOUNT = 1_000_000_000_000;
const ProviderEvent = z.object({
  id: z.string().regex(/^evt_[A-Za-z0-9]{1,64}$/, 'must be a provider event id (evt_…)'),
  type: z.enum(['payment.succeeded', 'payment.failed']),
  paymentId: z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'must be a provider payment id'),
  amount: z.number().int().min(1).max(MAX_PROVIDER_AMOUNT),
});

/** `t=<unix seconds>,v1=<hex>[,v1=<hex>…]` (several v1 while the provider rotates its secret). */
function parseSignatureHeader(header: string): { timestamp: number; signatures: string[] } | null {
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  return timestamp !== null && signatures.length > 0 ? { timestamp, signatures } : null;
}

/**
 * The HMAC covers the timestamp and the raw body together, and the timestamp must be recent: a
 * captured event cannot be sent again later, and the body cannot be changed.
 */
function verifySignature(rawBody: Buffer | undefined, header: string | undefined, secret: string, toleranceSeconds: number): void {
  const parsed = header ? parseSignatureHeader(header) : null;
  if (!rawBody || !parsed) throw new ApiError(401, 'invalid_signature', 'Missing or malformed webhook signature');
  const expected = Buffer.from(webhookHmac(secret, parsed.timestamp, rawBody), 'hex');
  // Both sides are 32 bytes (the header pattern guarantees it), as timingSafeEqual requires.
  if (!parsed.signatures.some((given) => timingSafeEqual(expected, Buffer.from(given, 'hex')))) {
    throw new ApiError(401, 'invalid_signature', 'Webhook signature does not match');
  }
  const skew = Math.abs(Math.floor(Date.now() / 1000) - parsed.timestamp);
  if (skew > toleranceSeconds) {
    throw new ApiError(401, 'stale_signature', 'Webhook timestamp is outside the accepted window', { toleranceSeconds });
  }
}

/**
 * Tells the flow its payment went through (top-up, checkout and subscription all answer the one
 * signal); a flow that already finished needs nothing more.
 */
async function confirmPayment(deps: ApiDeps, flow: PaymentFlow, paymentId: string): Promise<void> {
  try {
    await deps.temporal.workflow.getHandle(flow.workflowId).signal(paymentConfirmedSignal, { paymentId });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      deps.logger.info({ workflowId: flow.workflowId, paymentId }, 'webhook for a finished flow');
      return;
    }
    // Not recorded (the transaction rolls back), so the provider's retry of this event acts.
    deps.logger.warn({ workflowId: flow.workflowId, paymentId, err: String(err) }, 'webhook could not reach its flow');
    throw new ApiError(503, 'flow_unavailable', 'The flow could not be reached; send the event again');
  }
}

/** Wakes the payout flow to ask the bank now; a finished payout needs nothing (a later reversal is handled on its own). */
async function pollPayoutNow(deps: ApiDeps, workflowId: string): Promise<void> {
  try {
    await deps.temporal.workflow.getHandle(workflowId).signal(payoutPollNowSignal);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return;
    deps.logger.warn({ workflowId, err: String(err) }, 'payout webhook could not reach its flow');
    throw new ApiError(503, 'flow_unavailable', 'The payout flow could not be reached; send the event again');
  }
}

/** Tells the subscription its mandate was paused or revoked; a finished subscription needs nothing. */
async function signalMandateStopped(
  deps: ApiDeps,
  workflowId: string,
  change: { paymentMethod: string; status: 'paused' | 'cancelled' },
): Promise<void> {
  try {
    await deps.temporal.workflow.getHandle(workflowId).signal(mandateStatusSignal, change);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return;
    deps.logger.warn({ workflowId, err: String(err) }, 'token webhook could not reach its subscription');
    throw new ApiError(503, 'flow_unavailable', 'The subscription could not be reached; send the event again');
  }
}

// Razorpay's envelope: `{ entity: 'event', event, contains, payload: { payment|order|refund: { entity } } }`.
// Loose for the same reason as above; only the ids we route by are read.
const RazorpayEntity = z.looseObject({ id: z.string().regex(/^[A-Za-z0-9_]{1,64}$/) });
const RazorpayEvent = z.looseObject({
  entity: z.literal('event'),
  event: z.enum(RAZORPAY_EVENTS),
  payload: z.looseObject({
    payment: z
      .object({
        entity: RazorpayEntity.extend({
          order_id: z
            .string()
            .regex(/^[A-Za-z0-9_]{1,64}$/)
            .nullish(),
        }),
      })
      .optional(),
    order: z.looseObject({ entity: RazorpayEntity }).optional(),
    refund: z.looseObject({ entity: RazorpayEntity }).optional(),
    token: z.looseObject({ entity: RazorpayEntity }).optional(),
    payout: z.looseObject({ entity: RazorpayEntity }).optional(),
  }),
});

/** The id Mandi recorded for a Razorpay payment: the ORDER (infra/razorpay/payment-provider.ts). */
const razorpayOrderId = (e: z.output<typeof RazorpayEvent>): string | null =>
  e.payload.order?.entity.id ?? e.payload.payment?.entity.order_id ?? null;

const SignatureHeaders = z.object({
  // Declared optional so typed clients that set it through their own fetch options still compile;
  // the handler answers 401 without it.
  [WEBHOOK_SIGNATURE_HEADER]: z.string().optional().describe('Required. t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">'),
});
const RazorpayHeaders = z.object({
  [RAZORPAY_SIGNATURE_HEADER]: z.string().optional().describe('Required. Hex HMAC-SHA256 of the raw body with the webhook secret'),
  [RAZORPAY_EVENT_ID_HEADER]: z
    .string()
    .optional()
    .describe('Required. The same on every retry of one event: repeats are answered as duplicates'),
});

/** The payment provider tells us a payment settled; we pass it on to the flow that created it. */
export function registerWebhookRoutes(api: ApiRouter): void {
  registerRazorpayWebhook(api);
  api.route({
    method: 'post',
    path: '/v1/webhooks/psp',
    headers: SignatureHeaders,
    summary: `Payment provider webhook (${WEBHOOK_SIGNATURE_HEADER}: t=<unix seconds>,v1=<HMAC-SHA256 of "<t>.<body>">)`,
    tag: 'webhooks',
    capability: 'public',
    body: ProviderEvent,
    responses: {
      200: {
        description: 'Received (matched: the payment is ours; duplicate: this event id was handled before)',
        schema: WebhookReceiptSchema,
      },
      401: {
        description:
          'The signature is missing or wrong (`invalid_signature`), or its timestamp is outside the tolerance (`stale_signature`)',
      },
      503: { description: 'The flow could not be signalled (`flow_unavailable`); nothing was recorded, so the provider should retry' },
    },
    handler: async ({ body, req, deps }) => {
      const { PSP_WEBHOOK_SECRET, PSP_WEBHOOK_TOLERANCE_SECONDS } = deps.config;
      verifySignature(
        (req as { rawBody?: Buffer }).rawBody,
        req.get(WEBHOOK_SIGNATURE_HEADER),
        PSP_WEBHOOK_SECRET,
        PSP_WEBHOOK_TOLERANCE_SECONDS,
      );

      const flow = await findPaymentFlow(deps.db, body.paymentId);
      if (!flow) {
        // Not claimed: the event id stays free, should the same event come again once we know the payment.
        deps.logger.warn({ eventId: body.id, type: body.type, paymentId: body.paymentId }, 'webhook for a payment we have no record of');
        return { status: 200, body: { received: true, matched: false } satisfies WebhookReceipt };
      }

      // Claiming the event id and acting on it commit together: a concurrent repeat waits on the
      // claimed row and then finds it taken, so each event acts once.
      const firstTime = await deps.db.transaction(async (trx) => {
        if (!(await claimWebhookEvent(trx, { eventId: body.id, type: body.type, paymentId: body.paymentId, workflowId: flow.workflowId })))
          return false;
        // A failed payment needs no signal: the flow's own poll of the provider sees it.
        if (body.type === 'payment.succeeded') await confirmPayment(deps, flow, body.paymentId);
        return true;
      });
      return { status: 200, body: { received: true, matched: true, duplicate: !firstTime } satisfies WebhookReceipt };
    },
  });
}

/**
 * Razorpay's webhook: verified over the raw body, deduplicated by `x-razorpay-event-id`, and routed
 * by the order id in OUR records (never by the notes it echoes). `payment.captured` and `order.paid`
 * confirm the waiting flow; a failure needs no signal (the flow's poll sees it); refund events are
 * recorded once (refunds are answered synchronously, so they confirm what the flow already knows).
 */
function registerRazorpayWebhook(api: ApiRouter): void {
  api.route({
    method: 'post',
    path: '/v1/webhooks/razorpay',
    summary: `Razorpay webhook (${RAZORPAY_SIGNATURE_HEADER}: hex HMAC-SHA256 of the raw body; deduplicated by ${RAZORPAY_EVENT_ID_HEADER})`,
    tag: 'webhooks',
    capability: 'public',
    headers: RazorpayHeaders,
    body: RazorpayEvent,
    responses: {
      200: {
        description: 'Received (matched: the payment is ours; duplicate: this event id was handled before)',
        schema: WebhookReceiptSchema,
      },
      401: { description: 'The signature is missing or does not match the raw body (`invalid_signature`)' },
      503: { description: 'The flow could not be signalled (`flow_unavailable`); nothing was recorded, so Razorpay retries' },
    },
    handler: async ({ body, req, deps }) => {
      const secret = deps.config.RAZORPAY_WEBHOOK_SECRET;
      if (!secret || !verifyRazorpaySignature(secret, (req as { rawBody?: Buffer }).rawBody, req.get(RAZORPAY_SIGNATURE_HEADER))) {
        throw new ApiError(401, 'invalid_signature', 'Missing or wrong Razorpay webhook signature');
      }
      const eventId = req.get(RAZORPAY_EVENT_ID_HEADER);
      if (!eventId || !/^[A-Za-z0-9_-]{1,64}$/.test(eventId)) {
        throw new ApiError(400, 'invalid_event_id', `The ${RAZORPAY_EVENT_ID_HEADER} header is missing or malformed`);
      }
      const payoutId = body.payload.payout?.entity.id;
      if (body.event === 'payout.reversed' && payoutId) {
        // Money came back after a success: re-open the payable and alert ops, once per event.
        const reversed = await deps.db.transaction(async (trx) => {
          // Keyed journal and alert: safe to run before the claim, and nothing is written for a payout not ours.
          const done = await reversePaidPayout(trx, payoutId, 'payout.reversed');
          if (!done) return 'unmatched';
          const workflowId = payoutWorkflowId(done.payoutId);
          return (await claimWebhookEvent(trx, { eventId: `rzp:${eventId}`, type: body.event, paymentId: payoutId, workflowId }))
            ? 'first'
            : 'duplicate';
        });
        if (reversed === 'unmatched') return { status: 200, body: { received: true, matched: false } satisfies WebhookReceipt };
        return { status: 200, body: { received: true, matched: true, duplicate: reversed === 'duplicate' } satisfies WebhookReceipt };
      }
      if ((body.event === 'payout.processed' || body.event === 'payout.failed' || body.event === 'payout.updated') && payoutId) {
        // The payout workflow asks RazorpayX itself (never the webhook's body) and acts on what it
        // answers, so a forged or stale event can move no money: it only makes the flow look now.
        const flow = await findPayoutFlow(deps.db, payoutId);
        if (!flow) {
          deps.logger.warn({ eventId, type: body.event, payoutId }, 'razorpayx webhook for a payout we have no record of');
          return { status: 200, body: { received: true, matched: false } satisfies WebhookReceipt };
        }
        const firstTime = await deps.db.transaction(async (trx) => {
          if (
            !(await claimWebhookEvent(trx, {
              eventId: `rzp:${eventId}`,
              type: body.event,
              paymentId: payoutId,
              workflowId: flow.workflowId,
            }))
          )
            return false;
          await pollPayoutNow(deps, flow.workflowId);
          return true;
        });
        return { status: 200, body: { received: true, matched: true, duplicate: !firstTime } satisfies WebhookReceipt };
      }
      const tokenId = body.payload.token?.entity.id;
      if ((body.event === 'token.paused' || body.event === 'token.cancelled') && tokenId) {
        const status = body.event === 'token.paused' ? 'paused' : 'cancelled';
        // The mandate's status and the claim commit together; the subscription is told before they do.
        const outcome = await deps.db.transaction(async (trx) => {
          const found = await setMandateStatusByToken(trx, tokenId, status);
          if (!found) return 'unmatched';
          const workflowId = subscriptionWorkflowId(found.mandate.subscriptionId);
          if (!(await claimWebhookEvent(trx, { eventId: `rzp:${eventId}`, type: body.event, paymentId: tokenId, workflowId }))) {
            return 'duplicate';
          }
          await signalMandateStopped(deps, workflowId, {
            paymentMethod: found.mandate.id,
            status: found.mandate.status === 'cancelled' ? 'cancelled' : status,
          });
          return 'first';
        });
        if (outcome === 'unmatched') {
          deps.logger.warn({ eventId, type: body.event, tokenId }, 'razorpay token webhook for a mandate we have no record of');
          return { status: 200, body: { received: true, matched: false } satisfies WebhookReceipt };
        }
        return { status: 200, body: { received: true, matched: true, duplicate: outcome === 'duplicate' } satisfies WebhookReceipt };
      }
      const orderId = razorpayOrderId(body);
      const flow = orderId ? await findPaymentFlow(deps.db, orderId) : null;
      if (!flow || !orderId) {
        deps.logger.warn({ eventId, type: body.event, orderId }, 'razorpay webhook for a payment we have no record of');
        return { status: 200, body: { received: true, matched: false } satisfies WebhookReceipt };
      }
      const firstTime = await deps.db.transaction(async (trx) => {
        if (
          !(await claimWebhookEvent(trx, { eventId: `rzp:${eventId}`, type: body.event, paymentId: orderId, workflowId: flow.workflowId }))
        )
          return false;
        if (body.event === 'payment.captured' || body.event === 'order.paid') await confirmPayment(deps, flow, orderId);
        return true;
      });
      return { status: 200, body: { received: true, matched: true, duplicate: !firstTime } satisfies WebhookReceipt };
    },
  });
}
