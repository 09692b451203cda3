import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { signWebhook } from '../../infra/fake-payment-provider';
import { ApiError } from '../errors';
import type { ApiRouter } from '../router';

const ProviderEvent = z.object({
  type: z.enum(['payment.succeeded', 'payment.failed']),
  paymentId: z.string().min(1),
  amount: z.number().int(),
  metadata: z.record(z.string(), z.string()),
});

function verifySignature(rawBody: Buffer | undefined, signature: string | undefined, secret: string): void {
  if (!rawBody || !signature) throw new ApiError(401, 'invalid_signature', 'Missing webhook signature');
  const expected = Buffer.from(signWebhook(rawBody.toString('utf8'), secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new ApiError(401, 'invalid_signature', 'Webhook signature does not match');
  }
}

/** The payment provider tells us a payment settled; we pass it on to the waiting workflow. */
export function registerWebhookRoutes(api: ApiRouter): void {
  api.route({
    method: 'post',
    path: '/v1/webhooks/psp',
    summary: 'Payment provider webhook (HMAC-signed)',
    tag: 'webhooks',
    capability: 'public',
    body: ProviderEvent,
    responses: { 200: { description: 'Received' } },
    handler: async ({ body, req, deps }) => {
      verifySignature((req as { rawBody?: Buffer }).rawBody, req.get('x-provider-signature'), deps.config.PSP_WEBHOOK_SECRET);
      const workflowId = body.metadata.workflowId;
      if (body.type === 'payment.succeeded' && workflowId) {
        try {
          await deps.temporal.workflow.getHandle(workflowId).signal('paymentConfirmed', { paymentId: body.paymentId });
        } catch (err) {
          // A flow that already finished (it polled first) needs nothing more: acknowledge anyway.
          deps.logger.info({ workflowId, err: String(err) }, 'webhook for a finished flow');
        }
      }
      return { status: 200, body: { received: true } };
    },
  });
}
