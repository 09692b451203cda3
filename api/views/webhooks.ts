/** What the provider webhook answers with (api/routes/webhooks.ts), as documented in the OpenAPI. */
import { z } from 'zod';

/** A payment we have no record of: nothing was claimed, so the same event may come again. */
const Unmatched = z.object({ received: z.literal(true), matched: z.literal(false) });

/** One of our payments: the event id is claimed once; a repeat is answered as a duplicate. */
const Matched = z.object({
  received: z.literal(true),
  matched: z.literal(true),
  duplicate: z.boolean().describe('true when this event id was handled before: nothing was done again'),
});

export const WebhookReceiptSchema = z
  .discriminatedUnion('matched', [Unmatched, Matched])
  .meta({ id: 'WebhookReceipt', example: { received: true, matched: true, duplicate: false } });

export type WebhookReceipt = z.output<typeof WebhookReceiptSchema>;
