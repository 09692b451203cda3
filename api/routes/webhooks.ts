import { timingSafeEqual } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { paymentConfirmedSignal } from '../../contracts/provider-payment';
import { claimWebhookEvent, findPaymentFlow, type PaymentFlow } from '../../db/webhooks';
import { WEBHOOK_SIGNATURE_HEADER, webhookHmac } from '../../infra/payment-provider';
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

/** The payment provider tells us a payment settled; we pass it on to the flow that created it. */
export function registerWebhookRoutes(api: ApiRouter): void {
  api.route({
    method: 'post',
    path: '/v1/webhooks/psp',
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
