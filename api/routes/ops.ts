import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { abandonStepSignal, retryStepSignal, stuckQuery, type StepDecision, type StuckStep } from '../../contracts/stuck';
import { listFlowAlerts, listMarketAlerts } from '../../db/flow-alerts';
import { listDeliveryAlerts } from '../../db/fulfilment-day';
import { flowTypeOf } from '../../domain/flow-ids';
import { ApiError } from '../errors';
import type { ApiDeps } from '../deps';
import type { ApiRouter } from '../router';
import { AlertListSchema, StepDecisionAcceptedSchema } from '../views/ops';

const AlertsQuery = z.strictObject({
  open: z
    .enum(['true', 'false'])
    .default('true')
    .describe('true: only what still needs a human (a market awaiting its result, a flow still stuck)'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const FlowParams = z.strictObject({
  workflowId: z
    .string()
    .max(120)
    .refine(
      (id) => flowTypeOf(id) !== null,
      'not the workflow id of a Mandi flow (topup-…, subscription-…, checkout-…, payout-…, market-…, holiday-…, generation-…, account-deletion-…)',
    ),
});
const DecisionBody = z.strictObject({ reason: z.string().min(1).max(500).optional() });

/** The signals every flow answers (workflows/stuck.ts): the same ones support sends with the CLI. */
const SIGNALS = { retry: retryStepSignal, abandon: abandonStepSignal } as const;

interface AlertView {
  alertId: string;
  kind: string;
  message: string;
  raisedAt: string;
  [more: string]: unknown;
}

async function marketAlerts(deps: ApiDeps, open: boolean, limit: number): Promise<AlertView[]> {
  const rows = await listMarketAlerts(deps.db, { open, limit });
  return rows.map((r) => ({
    alertId: `market-${r.id}`,
    kind: r.kind,
    message: r.message,
    raisedAt: r.raisedAt.toISOString(),
    market: { marketId: r.marketId, question: r.question, status: r.marketStatus },
  }));
}

async function flowAlerts(deps: ApiDeps, open: boolean, limit: number): Promise<AlertView[]> {
  const rows = await listFlowAlerts(deps.db, { open, limit });
  return rows.map((r) => ({
    alertId: `flow-${r.id}`,
    kind: 'flow_stuck',
    message: `Stuck on step ${r.step}: ${r.reason}`,
    raisedAt: r.raisedAt.toISOString(),
    resolvedAt: r.resolvedAt?.toISOString() ?? null,
    flow: { workflowId: r.workflowId, flowType: r.flowType, step: r.step, reason: r.reason, code: r.code, resolution: r.resolution },
  }));
}

/** Deliveries left unconfirmed by an area's end-of-day close, and credits that need a hand. */
async function deliveryAlerts(deps: ApiDeps, open: boolean, limit: number): Promise<AlertView[]> {
  const rows = await listDeliveryAlerts(deps.db, { open, limit });
  return rows.map((r) => ({
    alertId: `delivery-${r.id}`,
    kind: r.kind,
    message: r.message,
    raisedAt: r.raisedAt.toISOString(),
    resolvedAt: r.resolvedAt?.toISOString() ?? null,
    delivery: { areaId: r.areaId, date: r.date, deliveryId: r.subject === '' ? null : r.subject, count: r.count },
  }));
}

/** What the flow says it is stuck on (its `stuck` query); 404 when there is no such workflow. */
async function stuckStepOf(deps: ApiDeps, workflowId: string): Promise<StuckStep | null> {
  try {
    return await deps.temporal.workflow.getHandle(workflowId).query(stuckQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ApiError(404, 'not_found', `No flow ${workflowId}`, { workflowId });
    throw err;
  }
}

/**
 * Sends support's decision on the step a flow is stuck on (the flow's own `retryStep` /
 * `abandonStep` signals): 409 when it is not stuck, or when the step cannot be abandoned.
 * Shared by the flow routes below and the reconciliation actions (api/routes/reconciliation.ts).
 */
export async function decideStuckStep(
  deps: ApiDeps,
  workflowId: string,
  action: 'retry' | 'abandon',
  decision: StepDecision,
): Promise<{ step: string; meaning: string | null }> {
  const stuck = await stuckStepOf(deps, workflowId);
  if (!stuck) throw new ApiError(409, 'not_stuck', `Flow ${workflowId} is not stuck on any step`, { workflowId });
  if (action === 'abandon' && stuck.abandon === null) {
    throw new ApiError(409, 'not_abandonable', `Step ${stuck.step} cannot be abandoned: fix the cause and retry it`, {
      workflowId,
      step: stuck.step,
    });
  }
  await deps.temporal.workflow.getHandle(workflowId).signal(SIGNALS[action], decision);
  return { step: stuck.step, meaning: stuck.abandon };
}

/** What operations must act on, newest first; each also shows as a FlowStatus in the Temporal UI. */
export function registerOpsRoutes(api: ApiRouter): void {
  api.route({
    method: 'get',
    path: '/v1/ops/alerts',
    summary:
      'Operational alerts: flows stuck on a step, markets closed too long without a result, deliveries left unconfirmed (support, admin)',
    tag: 'ops',
    capability: 'ops:read',
    query: AlertsQuery,
    responses: { 200: { description: 'Alerts, newest first', schema: AlertListSchema } },
    handler: async ({ query, deps }) => {
      const open = query.open === 'true';
      const [markets, flows, deliveries] = await Promise.all([
        marketAlerts(deps, open, query.limit),
        flowAlerts(deps, open, query.limit),
        deliveryAlerts(deps, open, query.limit),
      ]);
      const alerts = [...markets, ...flows, ...deliveries]
        .sort((a, b) => (a.raisedAt < b.raisedAt ? 1 : a.raisedAt > b.raisedAt ? -1 : 0))
        .slice(0, query.limit);
      return { status: 200, body: { alerts } };
    },
  });

  for (const action of ['retry', 'abandon'] as const) {
    api.route({
      method: 'post',
      path: `/v1/ops/flows/:workflowId/${action}`,
      summary:
        action === 'retry'
          ? 'Support: run the step a flow is stuck on again, once its cause is fixed (signal retryStep)'
          : 'Support: abandon the step a flow is stuck on; what that means depends on the flow and step (signal abandonStep)',
      tag: 'ops',
      capability: 'flow:retry',
      params: FlowParams,
      body: DecisionBody,
      responses: {
        202: { description: 'Signalled; the flow acts on it', schema: StepDecisionAcceptedSchema },
        404: { description: 'No such flow' },
        409: { description: 'The flow is not stuck, or this step cannot be abandoned (only a retry can help)' },
      },
      handler: async ({ principal, params, body, deps, audit }) => {
        const decision: StepDecision = { by: principal.userId, ...(body.reason ? { reason: body.reason } : {}) };
        const stuck = await decideStuckStep(deps, params.workflowId, action, decision);
        await audit(
          `flow.${action}_step`,
          { type: 'workflow', id: params.workflowId },
          { step: stuck.step, reason: body.reason, flowType: flowTypeOf(params.workflowId) },
        );
        return {
          status: 202,
          body: {
            workflowId: params.workflowId,
            action,
            step: stuck.step,
            ...(action === 'abandon' && stuck.meaning !== null ? { meaning: stuck.meaning } : {}),
            accepted: true,
          },
        };
      },
    });
  }
}
