/** What the reconciliation routes answer with (api/routes/reconciliation.ts), as documented in the OpenAPI. */
import { z } from 'zod';
import { retryStepSignal } from '../../contracts/stuck';
import { RECONCILIATION_KINDS } from '../../db/reconciliation';

/** The action each kind offers, mapped in api/routes/reconciliation.ts to the flow's own signal or update. */
export const RECONCILIATION_ACTIONS = {
  ledger_drift: ['recheck'],
  checkout_stuck: ['retry', 'abandon'],
  flow_stuck: ['retry', 'abandon'],
  payout_unsettled: ['poll', 'mark_settled'],
  subscription_dunning: ['retry_charge'],
  market_unresolved: ['resolve', 'void'],
  market_settlement_unfinished: ['retry'],
  topup_unconfirmed: ['retry', 'poll'],
} as const satisfies Record<(typeof RECONCILIATION_KINDS)[number], readonly string[]>;
export const ALL_RECONCILIATION_ACTIONS = [...new Set(Object.values(RECONCILIATION_ACTIONS).flat())] as [string, ...string[]];

const itemExample = {
  kind: 'checkout_stuck' as const,
  ref: 'checkout-ord_5d41402abc4b2a76b9719d91',
  workflowId: 'checkout-ord_5d41402abc4b2a76b9719d91',
  temporalUrl: 'http://localhost:8233/namespaces/default/workflows/checkout-ord_5d41402abc4b2a76b9719d91',
  reason: 'Stuck on step reserve: invalid byte sequence for encoding "UTF8": 0x00',
  since: '2027-01-11T03:31:00.000Z',
  ageSeconds: 5400,
  amount: 2_500,
  customerId: 'usr_asha',
  sellerId: 'sel_dairy',
  actions: ['retry', 'abandon'],
  details: { alertId: 17, step: 'reserve', code: '22021', orderId: 'ord_5d41402abc4b2a76b9719d91', orderStatus: 'stuck' },
};

export const ReconciliationItemSchema = z
  .object({
    kind: z.enum(RECONCILIATION_KINDS),
    ref: z
      .string()
      .describe('what the item is about (a workflow, payout, subscription, market or drift finding id): the `{ref}` of its action'),
    workflowId: z.string().nullable(),
    temporalUrl: z.string().nullable().describe('the workflow in the Temporal Web UI, when TEMPORAL_UI_URL is set'),
    reason: z.string(),
    since: z.string().describe('ISO instant it has been waiting since'),
    ageSeconds: z.number().int(),
    amount: z.number().int().nullable().describe('paise involved, when known'),
    customerId: z.string().nullable(),
    sellerId: z.string().nullable(),
    actions: z.array(z.enum(ALL_RECONCILIATION_ACTIONS)).describe('what POST /v1/ops/reconciliation/{kind}/{ref}/{action} accepts for it'),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'ReconciliationItem', example: itemExample });

const countsExample = Object.fromEntries(RECONCILIATION_KINDS.map((k) => [k, k === 'checkout_stuck' ? 1 : 0]));

export const ReconciliationPageSchema = z
  .object({
    items: z.array(ReconciliationItemSchema).describe('oldest first'),
    counts: z.record(z.enum(RECONCILIATION_KINDS), z.number().int()).describe('items per kind matching the age and amount filters'),
    total: z.number().int(),
    nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last'),
  })
  .meta({ id: 'ReconciliationPage', example: { items: [itemExample], counts: countsExample, total: 1, nextCursor: null } });

export const ReconciliationActionResultSchema = z
  .object({
    kind: z.enum(RECONCILIATION_KINDS),
    ref: z.string(),
    action: z.enum(ALL_RECONCILIATION_ACTIONS),
    accepted: z.literal(true),
    workflowId: z.string().nullable(),
    result: z.record(z.string(), z.unknown()).describe('what the flow answered (an update) or what was sent (a signal)'),
  })
  .meta({
    id: 'ReconciliationActionResult',
    example: {
      kind: 'checkout_stuck',
      ref: 'checkout-ord_5d41402abc4b2a76b9719d91',
      action: 'retry',
      accepted: true,
      workflowId: 'checkout-ord_5d41402abc4b2a76b9719d91',
      result: { message: retryStepSignal.name, step: 'reserve' },
    },
  });
