/**
 * The reconciliation list (everything that needs a human, from Postgres) and the action that
 * resolves each item. Every action is the flow's own signal or update — `retryStep`/`abandonStep`
 * on a parked step, the payout's and the top-up's `pollNow`, the payout's `markSettled` from the bank
 * statement, the subscription's payment-method update that retries
 * the charge, the market's resolve/void — so the fix is durable and shows in the workflow's
 * history; it takes a reason, an Idempotency-Key (one effect per click) and is audited.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { resolveMarketUpdate, voidMarketUpdate } from '../../contracts/market';
import {
  PAYOUT_FAILURE_CODE_PATTERN,
  UTR_PATTERN,
  payoutMarkSettledUpdate,
  payoutPollNowSignal,
  type PayoutMarkSettled,
} from '../../contracts/payout';
import { topupPollNowSignal } from '../../contracts/topup';
import { retryStepSignal, abandonStepSignal } from '../../contracts/stuck';
import { paymentMethodUpdate } from '../../contracts/subscription';
import { reconcile } from '../../db/ledger-reports';
import {
  RECONCILIATION_KINDS,
  countReconciliation,
  findReconciliationItem,
  listReconciliation,
  recordDriftFindings,
  type ReconciliationCursor,
  type ReconciliationItem,
  type ReconciliationKind,
} from '../../db/reconciliation';
import { assertCan } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError } from '../errors';
import type { ApiRouter, RouteContext } from '../router';
import { paymentMethodSchema } from '../schemas';
import {
  ALL_RECONCILIATION_ACTIONS,
  RECONCILIATION_ACTIONS,
  ReconciliationActionResultSchema,
  ReconciliationPageSchema,
} from '../views/reconciliation';
import { decideStuckStep } from './ops';

const DURATION = /^(\d{1,6})([smhd])$/;
const SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const AMOUNT = z.coerce.number().int().min(0).max(1e12);

const ListQuery = z.strictObject({
  kind: z.enum(RECONCILIATION_KINDS).optional().describe('only this kind (counts still cover every kind)'),
  olderThan: z
    .string()
    .regex(DURATION, 'a duration such as 30m, 6h or 2d')
    .optional()
    .describe('only items waiting at least this long: `<n>s`, `<n>m`, `<n>h` or `<n>d`'),
  minAmount: AMOUNT.optional().describe('paise'),
  maxAmount: AMOUNT.optional().describe('paise'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(400).optional().describe('`nextCursor` of the previous page'),
});

const ActionParams = z.strictObject({
  kind: z.enum(RECONCILIATION_KINDS),
  ref: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,200}$/)
    .describe('the item’s `ref` (`all` for ledger_drift: the check covers every balance)'),
  action: z.enum(ALL_RECONCILIATION_ACTIONS),
});

const ActionBody = z.strictObject({
  reason: z.string().trim().min(3).max(500).describe('why: written to the audit log and passed to the flow'),
  outcome: z
    .enum(['YES', 'NO', 'paid', 'failed'])
    .optional()
    .describe('resolve: YES or NO; mark_settled: paid or failed, as the bank statement shows'),
  utr: z.string().trim().regex(UTR_PATTERN, '6-40 letters and digits').optional().describe('mark_settled paid: the UTR on the statement'),
  failureCode: z
    .string()
    .trim()
    .regex(PAYOUT_FAILURE_CODE_PATTERN, 'snake_case, 2-64 characters')
    .optional()
    .describe('mark_settled failed: the bank’s failure code (e.g. account_closed)'),
  source: z.string().trim().min(3).max(300).optional().describe('resolve only: where the result comes from'),
  paymentMethod: paymentMethodSchema.optional().describe('retry_charge only: charge this method (default: the one on file)'),
});

function secondsOf(duration: string): number {
  const [, n, unit] = DURATION.exec(duration)!;
  return Number(n) * SECONDS[unit as keyof typeof SECONDS];
}

function encodeCursor(c: ReconciliationCursor): string {
  return Buffer.from(JSON.stringify([c.sinceUs, c.kind, c.ref])).toString('base64url');
}

function decodeCursor(text: string): ReconciliationCursor {
  try {
    const [sinceUs, kind, ref] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (
      typeof sinceUs === 'string' &&
      /^\d{1,19}$/.test(sinceUs) &&
      typeof kind === 'string' &&
      typeof ref === 'string' &&
      ref.length <= 200
    )
      return { sinceUs, kind, ref };
  } catch {
    // fall through: any text that is not one of ours is the client's mistake
  }
  throw new ApiError(400, 'invalid_cursor', 'The cursor is not one this API gave out');
}

function temporalUrl(deps: ApiDeps, workflowId: string | null): string | null {
  const ui = deps.config.TEMPORAL_UI_URL;
  if (!ui || !workflowId) return null;
  return `${ui.replace(/\/$/, '')}/namespaces/${encodeURIComponent(deps.config.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`;
}

function itemView(deps: ApiDeps, item: ReconciliationItem, nowMs: number) {
  return {
    kind: item.kind,
    ref: item.ref,
    workflowId: item.workflowId,
    temporalUrl: temporalUrl(deps, item.workflowId),
    reason: item.reason,
    since: item.since.toISOString(),
    ageSeconds: Math.max(0, Math.floor((nowMs - item.since.getTime()) / 1000)),
    amount: item.amount,
    customerId: item.customerId,
    sellerId: item.sellerId,
    actions: [...RECONCILIATION_ACTIONS[item.kind]],
    details: item.details,
  };
}

type ActionContext = RouteContext<z.output<typeof ActionBody>, unknown, z.output<typeof ActionParams>>;
type ActionOutcome = Record<string, unknown>;

/** An item that is gone no longer needs a human: someone else's click (or the flow) resolved it. */
async function itemOrConflict(ctx: ActionContext): Promise<ReconciliationItem> {
  const item = await findReconciliationItem(ctx.deps.db, ctx.params.kind, ctx.params.ref);
  if (!item) {
    throw new ApiError(409, 'already_resolved', `Nothing of kind ${ctx.params.kind} with ref ${ctx.params.ref} needs a human now`, {
      kind: ctx.params.kind,
      ref: ctx.params.ref,
    });
  }
  return item;
}

async function onRunningFlow<T>(workflowId: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new ApiError(409, 'flow_not_running', `Flow ${workflowId} is not running: act on it in the Temporal UI`, { workflowId });
    throw err;
  }
}

/** What the statement shows, complete for its outcome: a paid payout has its UTR, a failed one its failure code. */
function markOf(body: ActionContext['body'], by: string): PayoutMarkSettled {
  const { outcome, utr, failureCode, reason } = body;
  if (outcome === 'paid' && utr && !failureCode) return { outcome, utr, reason, by };
  if (outcome === 'failed' && failureCode && !utr) return { outcome, failureCode, reason, by };
  throw new ApiError(400, 'validation_failed', 'Marking needs the outcome (paid with its utr, or failed with its failureCode)', {
    fields: outcome === 'paid' ? ['utr'] : outcome === 'failed' ? ['failureCode'] : ['outcome'],
  });
}

/** Each kind's actions, each ending in the flow's own message. */
async function act(ctx: ActionContext): Promise<{ workflowId: string | null; result: ActionOutcome }> {
  const { deps, params, body, principal } = ctx;
  if (params.kind === 'ledger_drift') {
    // The re-derivation itself is a read of the whole ledger; its findings replace the open ones.
    const found = await recordDriftFindings(deps.db, await reconcile(deps.db));
    return { workflowId: null, result: found };
  }
  const item = await itemOrConflict(ctx);
  const workflowId = item.workflowId!;
  const handle = deps.temporal.workflow.getHandle(workflowId);
  switch (params.action) {
    case 'retry':
    case 'abandon': {
      const decided = await decideStuckStep(deps, workflowId, params.action, { by: principal.userId, reason: body.reason });
      const message = params.action === 'retry' ? retryStepSignal.name : abandonStepSignal.name;
      return { workflowId, result: { message, step: decided.step, ...(params.action === 'abandon' ? { meaning: decided.meaning } : {}) } };
    }
    case 'poll': {
      const signal = params.kind === 'topup_unconfirmed' ? topupPollNowSignal : payoutPollNowSignal;
      await onRunningFlow(workflowId, () => handle.signal(signal));
      return { workflowId, result: { message: signal.name } };
    }
    case 'mark_settled': {
      const mark = markOf(body, principal.userId);
      const state = await onRunningFlow(workflowId, () => handle.executeUpdate(payoutMarkSettledUpdate, { args: [mark] }));
      return {
        workflowId,
        result: {
          message: payoutMarkSettledUpdate.name,
          outcome: mark.outcome,
          status: state.status,
          ...(state.utr ? { utr: state.utr } : {}),
          ...(state.failureCode ? { failureCode: state.failureCode } : {}),
        },
      };
    }
    case 'retry_charge': {
      const paymentMethod = body.paymentMethod ?? String(item.details.paymentMethod);
      const answer = await onRunningFlow(workflowId, () =>
        handle.executeUpdate(paymentMethodUpdate, { args: [{ paymentMethod, createdBy: principal.userId }] }),
      );
      return { workflowId, result: { message: paymentMethodUpdate.name, paymentMethod, retried: answer.retried } };
    }
    case 'resolve': {
      assertCan(principal, 'market:admin');
      const { outcome, source } = body;
      if ((outcome !== 'YES' && outcome !== 'NO') || !source)
        throw new ApiError(400, 'validation_failed', 'Resolving needs the outcome (YES or NO) and its source', {
          fields: ['outcome', 'source'],
        });
      const state = await onRunningFlow(workflowId, () => handle.executeUpdate(resolveMarketUpdate, { args: [{ outcome, source }] }));
      return { workflowId, result: { message: resolveMarketUpdate.name, phase: state.phase, outcome } };
    }
    case 'void': {
      assertCan(principal, 'market:admin');
      const state = await onRunningFlow(workflowId, () => handle.executeUpdate(voidMarketUpdate, { args: [{ reason: body.reason }] }));
      return { workflowId, result: { message: voidMarketUpdate.name, phase: state.phase } };
    }
    default:
      throw new ApiError(400, 'unknown_action', `No action ${params.action}`);
  }
}

export function registerReconciliationRoutes(api: ApiRouter): void {
  api.route({
    method: 'get',
    path: '/v1/ops/reconciliation',
    summary:
      'Everything that needs a human — ledger drift, stuck checkouts and flows, unsettled payouts, dunning, overdue markets, settlements and voids not finished, unconfirmed top-ups — oldest first, with counts per kind (support, admin)',
    tag: 'ops',
    capability: 'ops:read',
    query: ListQuery,
    responses: { 200: { description: 'A page of items, oldest first, and the counts per kind', schema: ReconciliationPageSchema } },
    handler: async ({ query, deps }) => {
      if (query.minAmount !== undefined && query.maxAmount !== undefined && query.minAmount > query.maxAmount)
        throw new ApiError(400, 'validation_failed', 'minAmount is above maxAmount', { fields: ['minAmount', 'maxAmount'] });
      const filter = {
        kinds: query.kind ? [query.kind as ReconciliationKind] : undefined,
        olderThanSeconds: query.olderThan ? secondsOf(query.olderThan) : undefined,
        minAmount: query.minAmount,
        maxAmount: query.maxAmount,
      };
      const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      const [page, counts] = await Promise.all([
        listReconciliation(deps.db, filter, { limit: query.limit, cursor }),
        countReconciliation(deps.db, filter),
      ]);
      const now = Date.now();
      const body: z.output<typeof ReconciliationPageSchema> = {
        items: page.items.map((i) => itemView(deps, i, now)),
        counts,
        total: Object.values(counts).reduce((a, b) => a + b, 0),
        nextCursor: page.next ? encodeCursor(page.next) : null,
      };
      return { status: 200, body };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/ops/reconciliation/:kind/:ref/:action',
    summary:
      'Resolve a reconciliation item with its kind’s action: retry/abandon a parked step, poll the bank or the payment provider, mark a payout from the bank statement, retry the charge, resolve/void a market (admin), re-check the ledger',
    description:
      'Actions per kind: ledger_drift recheck; checkout_stuck and flow_stuck retry, abandon; payout_unsettled poll, mark_settled (outcome `paid` with the statement’s `utr`, or `failed` with its `failureCode`; only while the payout waits on the bank: booked as the bank’s answer would be, once); subscription_dunning retry_charge; market_unresolved resolve, void (admin); market_settlement_unfinished (a resolved market not paid out in time, or a settlement or void parked on a paying step) retry; topup_unconfirmed retry (when the flow is parked), poll (ask the payment provider now).',
    tag: 'ops',
    capability: 'flow:retry',
    params: ActionParams,
    body: ActionBody,
    idempotent: true,
    responses: {
      200: { description: 'Done: what the flow was sent, and what it answered', schema: ReconciliationActionResultSchema },
      409: {
        description:
          'Nothing to do: the item was resolved already (`already_resolved`), the flow is not stuck (`not_stuck`) or not running (`flow_not_running`), the step cannot be abandoned, the payout no longer waits on the bank (`payout_not_awaiting_bank`) or is being settled already (`payout_already_settling`)',
      },
    },
    handler: async (ctx) => {
      const { params, body, audit } = ctx;
      const allowed: readonly string[] = RECONCILIATION_ACTIONS[params.kind];
      if (!allowed.includes(params.action))
        throw new ApiError(400, 'unknown_action', `A ${params.kind} item takes ${allowed.join(' or ')}, not ${params.action}`, {
          kind: params.kind,
          actions: allowed,
        });
      const done = await act(ctx);
      await audit(
        `reconciliation.${params.action}`,
        { type: params.kind, id: params.ref },
        {
          reason: body.reason,
          workflowId: done.workflowId,
          ...done.result,
        },
      );
      const answer: z.output<typeof ReconciliationActionResultSchema> = {
        kind: params.kind,
        ref: params.ref,
        action: params.action,
        accepted: true,
        workflowId: done.workflowId,
        result: done.result,
      };
      return { status: 200, body: answer };
    },
  });
}
