/** What the support routes answer with (api/routes/ops.ts), as documented in the OpenAPI. */
import { z } from 'zod';
import { MARKET_STATUSES } from '../../contracts/market';
import { DELIVERY_ALERT_KINDS } from '../../contracts/fulfilment';
import { FLOW_TYPES } from '../../domain/flow-ids';

const common = {
  alertId: z.string().describe('`market-<n>`, `flow-<n>` or `delivery-<n>`'),
  message: z.string(),
  raisedAt: z.string(),
};

const MarketAlertSchema = z
  .object({
    ...common,
    kind: z.string().describe('what the market flow raised, e.g. `resolution_overdue`'),
    market: z.object({ marketId: z.string(), question: z.string(), status: z.enum(MARKET_STATUSES) }),
  })
  .meta({ id: 'MarketAlert', description: 'A market closed too long without a result; open while the market is still closed' });

const flowAlertExample = {
  alertId: 'flow-17',
  kind: 'flow_stuck' as const,
  message: 'Stuck on step payout: bank account reference rejected',
  raisedAt: '2027-01-11T03:31:00.000Z',
  resolvedAt: null,
  flow: {
    workflowId: 'payout-po_1a2b3c4d5e6f708192a3b4c5',
    flowType: 'payout' as const,
    step: 'payout',
    reason: 'bank account reference rejected',
    code: null,
    resolution: null,
  },
};

const FlowAlertSchema = z
  .object({
    ...common,
    kind: z.literal('flow_stuck'),
    resolvedAt: z.string().nullable(),
    flow: z.object({
      workflowId: z.string(),
      flowType: z.enum(FLOW_TYPES),
      step: z.string(),
      reason: z.string(),
      code: z.string().nullable().describe('Postgres SQLSTATE or JS error name of a data failure; null for other failures'),
      resolution: z
        .enum(['retried', 'abandoned', 'decided', 'cancelled'])
        .nullable()
        .describe('retried or abandoned by support, decided by the flow itself, or the workflow was cancelled; null while open'),
    }),
  })
  .meta({ id: 'FlowAlert', description: 'A flow parked on a step no retry could fix', example: flowAlertExample });

const DeliveryAlertSchema = z
  .object({
    ...common,
    kind: z.enum(DELIVERY_ALERT_KINDS),
    resolvedAt: z.string().nullable(),
    delivery: z.object({
      areaId: z.string(),
      date: z.string(),
      deliveryId: z.string().nullable().describe('null for an alert about the area’s whole day'),
      count: z.number().int().describe('deliveries concerned (for deliveries_unconfirmed)'),
    }),
  })
  .meta({ id: 'DeliveryAlert', description: 'Deliveries left unconfirmed by an area’s end-of-day close, or a credit that needs a hand' });

export const AlertListSchema = z
  .object({ alerts: z.array(z.union([MarketAlertSchema, FlowAlertSchema, DeliveryAlertSchema])).describe('newest first') })
  .meta({ id: 'OpsAlertList', example: { alerts: [flowAlertExample] } });

export const StepDecisionAcceptedSchema = z
  .object({
    workflowId: z.string(),
    action: z.enum(['retry', 'abandon']),
    step: z.string().describe('the step the flow was stuck on'),
    meaning: z.string().optional().describe('abandon only: what abandoning this step does in this flow'),
    accepted: z.literal(true),
  })
  .meta({
    id: 'StepDecisionAccepted',
    example: { workflowId: 'payout-po_1a2b3c4d5e6f708192a3b4c5', action: 'retry', step: 'payout', accepted: true },
  });
