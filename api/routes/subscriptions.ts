import { randomUUID } from 'node:crypto';
import { WorkflowIdConflictPolicy, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { subscriptionWorkflowId } from '../../domain/flow-ids';
import {
  addDays,
  daysBetween,
  deliveriesBetween,
  isValidLocalDate,
  isValidTimezone,
  localDateOf,
  validateRecurrence,
  wouldDeliver,
  type Recurrence,
  type ScheduleException,
  type ScheduleSubscription,
} from '../../domain/schedule';
import { earliestChangeableDate, type SubscriptionRecord, type SubscriptionStateView } from '../../domain/subscription';
import type { Db } from '../../db/knex';
import { insertSubscriptionRow } from '../../db/subscriptions';
import { CustomerId, FlowStatus } from '../../workflows/search-attributes';
import { assertOwnerOr, isStaff } from '../auth';
import { ApiError, notFound } from '../errors';
import type { ApiRouter, RouteContext } from '../router';

const DATE = z.string().refine(isValidLocalDate, 'must be a date YYYY-MM-DD');
const PAYMENT_METHOD = z.string().regex(/^pm_[a-z0-9_]{1,40}$/, 'must be a payment-method token such as pm_ok');
const QTY = z.number().int().min(1).max(100);
const Actor = { reason: z.string().min(1).max(40).optional() };

const RecurrenceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('daily') }),
  z.strictObject({ kind: z.literal('every_n_days'), n: z.number().int().min(2).max(366) }),
  z.strictObject({ kind: z.literal('days_of_week'), days: z.array(z.number().int().min(1).max(7)).min(1).max(7) }),
  z.strictObject({ kind: z.literal('days_of_month'), days: z.array(z.union([z.number().int().min(1).max(31), z.literal('last')])).min(1).max(31) }),
]);

const CreateBody = z.strictObject({
  productId: z.string().min(1).max(64),
  quantity: QTY,
  pricePerPeriod: z.number().int().min(100).max(10_000_000).describe('paise per billing period (monthly)'),
  recurrence: RecurrenceSchema,
  startDate: DATE,
  endDate: DATE.optional(),
  timezone: z.string().min(1).max(64).default('Asia/Kolkata'),
  region: z.string().regex(/^[a-z0-9_-]{1,32}$/).default('default'),
  paymentMethod: PAYMENT_METHOD,
});
const IdParams = z.strictObject({ subscriptionId: z.string().regex(/^sub_[a-z0-9]{8,40}$/) });
const ListQuery = z.strictObject({ customerId: z.string().min(1).max(128).optional() });
const PauseBody = z.strictObject({ from: DATE, to: DATE.nullable().default(null), reason: z.enum(['vacation', 'special_request']).default('vacation') });
const ResumeBody = z.strictObject({ from: DATE.optional() });
const SkipBody = z.strictObject({ from: DATE, to: DATE, ...Actor });
const ExtraBody = z.strictObject({ date: DATE, quantity: QTY, ...Actor });
const QuantityBody = z.strictObject({ from: DATE, to: DATE, quantity: QTY, ...Actor });
const CancelBody = z.strictObject({ from: DATE.optional(), ...Actor });
const PaymentMethodBody = z.strictObject({ paymentMethod: PAYMENT_METHOD });
const RangeQuery = z.strictObject({ from: DATE, to: DATE });
const ExplainQuery = z.strictObject({ date: DATE });
const HolidayBody = z.strictObject({ region: z.string().regex(/^[a-z0-9_-]{1,32}$/), date: DATE, reason: z.string().min(1).max(40).default('holiday') });

const MAX_RANGE_DAYS = 366;

async function loadRow(db: Db, id: string) {
  const { rows } = await db.raw(
    `SELECT id, customer_id, product_id, quantity, price_per_period, recurrence, start_date::text AS start_date, end_date::text AS end_date,
            timezone, region, status, cancelled_from::text AS cancelled_from, payment_method, paused_days_credited,
            next_renewal_date::text AS next_renewal_date, paid_through::text AS paid_through, billing_state, billing_reason, created_at
       FROM subscriptions WHERE id = ?`,
    [id],
  );
  return rows[0] as Record<string, any> | undefined;
}

async function loadExceptions(db: Db, id: string): Promise<ScheduleException[]> {
  const { rows } = await db.raw(
    `SELECT id, type, from_date::text AS "from", to_date::text AS "to", quantity, reason, created_by AS "createdBy",
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt", ended_at::text AS "endedAt"
       FROM subscription_exceptions WHERE subscription_id = ? ORDER BY created_at, id`,
    [id],
  );
  return rows.map((r: Record<string, any>) => {
    const { quantity, ...rest } = r;
    return quantity == null ? rest : { ...rest, quantity };
  }) as ScheduleException[];
}

function scheduleOf(row: Record<string, any>): ScheduleSubscription {
  return {
    id: row.id,
    startDate: row.start_date,
    endDate: row.end_date,
    recurrence: row.recurrence,
    quantity: row.quantity,
    timezone: row.timezone,
    status: row.status,
    cancelledFrom: row.cancelled_from,
  };
}

function view(row: Record<string, any>) {
  return {
    subscriptionId: row.id,
    workflowId: subscriptionWorkflowId(row.id),
    customerId: row.customer_id,
    productId: row.product_id,
    quantity: row.quantity,
    pricePerPeriod: row.price_per_period,
    recurrence: row.recurrence,
    startDate: row.start_date,
    endDate: row.end_date,
    timezone: row.timezone,
    region: row.region,
    status: row.status,
    cancelledFrom: row.cancelled_from,
    paymentMethod: row.payment_method,
    billingState: row.billing_state,
    billingReason: row.billing_reason,
    nextRenewalDate: row.next_renewal_date,
    paidThrough: row.paid_through,
    pausedDaysCredited: row.paused_days_credited,
  };
}

/** Loads the subscription and checks the caller may act on it (customers: their own only). */
async function owned(ctx: RouteContext<unknown, unknown, { subscriptionId: string }>, anyCapability: 'subscription:manage:any' | 'subscription:explain:any') {
  const row = await loadRow(ctx.deps.db, ctx.params.subscriptionId);
  if (!row) throw notFound('subscription');
  assertOwnerOr(ctx.principal, row.customer_id, anyCapability);
  return row;
}

/** Who the workflow records as the author of a change. */
function actor(ctx: RouteContext<unknown, unknown, unknown>, customerId: string): string {
  return ctx.principal.userId === customerId && !isStaff(ctx.principal.roles) ? `customer:${customerId}` : `support:${ctx.principal.userId}`;
}

/** Sends a validated update; the workflow's validator is the authority on dates (cutoff, past, order). */
async function sendUpdate<T>(ctx: RouteContext<unknown, unknown, { subscriptionId: string }>, row: Record<string, any>, name: string, arg: unknown, auditAction: string): Promise<T> {
  if (row.status === 'cancelled') throw new ApiError(409, 'subscription_cancelled', `The subscription is cancelled from ${row.cancelled_from}`);
  try {
    const result = await ctx.deps.temporal.workflow.getHandle(subscriptionWorkflowId(row.id)).executeUpdate(name, { args: [arg] });
    await ctx.audit(auditAction, { type: 'subscription', id: row.id }, { request: arg as Record<string, unknown> });
    return result as T;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause as { message?: string; details?: [{ codes?: string[] }] } | undefined;
      const codes = cause?.details?.[0]?.codes ?? ['rejected'];
      throw new ApiError(422, codes[0], cause?.message ?? 'The request was rejected', { codes });
    }
    if (err instanceof WorkflowNotFoundError) throw new ApiError(409, 'subscription_not_running', 'The subscription is no longer running');
    throw err;
  }
}

export function registerSubscriptionRoutes(api: ApiRouter): void {
  api.route({
    method: 'post',
    path: '/v1/subscriptions',
    summary: 'Subscribe: a recurring delivery, billed per period (wallet first, then the payment method)',
    tag: 'subscriptions',
    capability: 'subscription:manage',
    body: CreateBody,
    idempotent: true,
    rateLimit: 'money',
    responses: { 201: { description: 'Created; the subscription workflow is running' } },
    handler: async ({ principal, body, deps }) => {
      const problems: string[] = validateRecurrence(body.recurrence as Recurrence);
      if (!isValidTimezone(body.timezone)) problems.push('timezone: unknown IANA timezone');
      if (body.endDate && body.endDate < body.startDate) problems.push('endDate: before startDate');
      if (problems.length) throw new ApiError(400, 'validation_failed', 'The subscription is invalid', { problems });
      const earliest = earliestChangeableDate(Date.now(), body.timezone, '22:00');
      if (body.startDate < earliest) throw new ApiError(422, 'start_too_soon', `The first delivery can be on ${earliest} at the earliest`, { earliest });

      const id = `sub_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
      const sub: SubscriptionRecord = {
        id,
        customerId: principal.userId,
        productId: body.productId,
        quantity: body.quantity,
        pricePerPeriod: body.pricePerPeriod,
        recurrence: body.recurrence as Recurrence,
        startDate: body.startDate,
        endDate: body.endDate ?? null,
        timezone: body.timezone,
        region: body.region,
        paymentMethod: body.paymentMethod,
      };
      await deps.db.transaction(async (trx) => {
        await insertSubscriptionRow(trx, sub);
        await deps.temporal.workflow.start('subscriptionWorkflow', {
          taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
          workflowId: subscriptionWorkflowId(id),
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          args: [{ subscription: sub }],
          typedSearchAttributes: [
            { key: CustomerId, value: sub.customerId },
            { key: FlowStatus, value: 'active' },
          ],
        });
      });
      return { status: 201, body: view((await loadRow(deps.db, id))!) };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/subscriptions',
    summary: "The caller's subscriptions (support: any customer's with ?customerId=)",
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    query: ListQuery,
    responses: { 200: { description: 'Subscriptions, newest first' } },
    handler: async ({ principal, query, deps }) => {
      const customerId = query.customerId ?? principal.userId;
      assertOwnerOr(principal, customerId, 'subscription:manage:any');
      const ids = await deps.db('subscriptions').where({ customer_id: customerId }).orderBy('created_at', 'desc').limit(100).pluck('id');
      const rows = await Promise.all(ids.map((id: string) => loadRow(deps.db, id)));
      return { status: 200, body: { subscriptions: rows.filter(Boolean).map((r) => view(r!)) } };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/subscriptions/:subscriptionId',
    summary: 'A subscription, its exceptions and (while it runs) the workflow state: billing, dunning and why',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    params: IdParams,
    responses: { 200: { description: 'The subscription' } },
    handler: async (ctx) => {
      const row = await owned(ctx, 'subscription:manage:any');
      let workflow: SubscriptionStateView | null = null;
      try {
        workflow = await ctx.deps.temporal.workflow.getHandle(subscriptionWorkflowId(row.id)).query<SubscriptionStateView>('state');
      } catch {
        workflow = null; // finished or not reachable: Postgres still answers
      }
      const live = workflow ? { nextRenewalDate: workflow.nextRenewalDate } : {};
      return { status: 200, body: { ...view(row), ...live, exceptions: await loadExceptions(ctx.deps.db, row.id), workflow } };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/subscriptions/:subscriptionId/pause',
    summary: 'Pause from a date (to a date, or until resumed)',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    params: IdParams,
    body: PauseBody,
    responses: { 200: { description: 'Accepted: the exception id' }, 422: { description: 'Rejected (past, after cutoff, end before start…)' } },
    handler: async (ctx) => {
      const row = await owned(ctx, 'subscription:manage:any');
      const body = await sendUpdate(ctx, row, 'requestPause', { ...ctx.body, createdBy: actor(ctx, row.customer_id) }, 'subscription.pause');
      return { status: 200, body };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/subscriptions/:subscriptionId/resume',
    summary: 'Resume early: ends your pauses from a date (default: the earliest changeable date)',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    params: IdParams,
    body: ResumeBody,
    responses: { 200: { description: 'The pauses that were ended' } },
    handler: async (ctx) => {
      const row = await owned(ctx, 'subscription:manage:any');
      const body = await sendUpdate(ctx, row, 'requestResume', { ...ctx.body, createdBy: actor(ctx, row.customer_id) }, 'subscription.resume');
      return { status: 200, body };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/subscriptions/:subscriptionId/skip',
    summary: 'Skip a date or range',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    params: IdParams,
    body: SkipBody,
    responses: { 200: { description: 'Accepted: the exception id' } },
    handler: async (ctx) => {
      const row = await owned(ctx, 'subscription:manage:any');
      const body = await sendUpdate(ctx, row, 'requestSkip', { ...ctx.body, createdBy: actor(ctx, row.customer_id) }, 'subscription.skip');
      return { status: 200, body };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/subscriptions/:subscriptionId/extra',
    summary: 'Deliver an extra quantity on a date (also on a day without delivery)',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    params: IdParams,
    body: ExtraBody,
    responses: { 200: { description: 'Accepted: the exception id' } },
    handler: async (ctx) => {
      const row = await owned(ctx, 'subscription:manage:any');
      const body = await sendUpdate(ctx, row, 'requestDeliverExtra', { ...ctx.body, createdBy: actor(ctx, row.customer_id) }, 'subscription.deliver_extra');
      return { status: 200, body };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/subscriptions/:subscriptionId/quantity',
    summary: 'Change the quantity over a date range',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    params: IdParams,
    body: QuantityBody,
    responses: { 200: { description: 'Accepted: the exception id' } },
    handler: async (ctx) => {
      const row = await owned(ctx, 'subscription:manage:any');
      const body = await sendUpdate(ctx, row, 'requestChangeQuantity', { ...ctx.body, createdBy: actor(ctx, row.customer_id) }, 'subscription.change_quantity');
      return { status: 200, body };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/subscriptions/:subscriptionId/cancel',
    summary: 'Cancel from a date (default: the earliest changeable date); no further renewals',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    params: IdParams,
    body: CancelBody,
    responses: { 200: { description: 'Cancelled from the given date' } },
    handler: async (ctx) => {
      const row = await owned(ctx, 'subscription:manage:any');
      const body = await sendUpdate(ctx, row, 'requestCancel', { ...ctx.body, createdBy: actor(ctx, row.customer_id) }, 'subscription.cancel');
      return { status: 200, body };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/subscriptions/:subscriptionId/payment-method',
    summary: 'Update the payment method; a renewal in dunning is retried at once',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    params: IdParams,
    body: PaymentMethodBody,
    responses: { 200: { description: 'Updated; `retried` tells whether a failed renewal was retried' } },
    handler: async (ctx) => {
      const row = await owned(ctx, 'subscription:manage:any');
      const body = await sendUpdate(ctx, row, 'requestPaymentMethodUpdate', { ...ctx.body, createdBy: actor(ctx, row.customer_id) }, 'subscription.payment_method');
      return { status: 200, body };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/subscriptions/:subscriptionId/deliveries',
    summary: 'The actual delivery dates and quantities between two dates (at most 366 days)',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    params: IdParams,
    query: RangeQuery,
    responses: { 200: { description: 'Delivery dates with quantities and reasons' } },
    handler: async (ctx) => {
      const { from, to } = ctx.query;
      if (to < from) throw new ApiError(400, 'to_before_from', '`to` is before `from`');
      if (daysBetween(from, to) >= MAX_RANGE_DAYS) throw new ApiError(400, 'range_too_long', `At most ${MAX_RANGE_DAYS} days per request`);
      const row = await owned(ctx, 'subscription:manage:any');
      const list = deliveriesBetween(scheduleOf(row), await loadExceptions(ctx.deps.db, row.id), from, to);
      return {
        status: 200,
        body: { subscriptionId: row.id, from, to, deliveries: list.map((d) => ({ date: d.date, quantity: d.quantity, reason: d.reason, explanation: d.explanation })) },
      };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/subscriptions/:subscriptionId/explain',
    summary: 'Why is (or isn’t) there a delivery on a date: the decision and the rule or exception behind it',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:explain:any'],
    params: IdParams,
    query: ExplainQuery,
    responses: { 200: { description: 'The decision and its provenance' } },
    handler: async (ctx) => {
      const row = await owned(ctx, 'subscription:explain:any');
      const d = wouldDeliver(scheduleOf(row), await loadExceptions(ctx.deps.db, row.id), ctx.query.date);
      const delivery = await ctx.deps.db.raw(`SELECT quantity, status FROM deliveries WHERE subscription_id = ? AND delivery_date = ?::date`, [row.id, ctx.query.date]);
      if (ctx.principal.userId !== row.customer_id) await ctx.audit('subscription.explain', { type: 'subscription', id: row.id }, { date: ctx.query.date });
      return {
        status: 200,
        body: {
          subscriptionId: row.id,
          date: d.date,
          deliver: d.deliver,
          quantity: d.quantity,
          reason: d.reason,
          decidedBy: d.decidedBy.kind === 'rule' ? { kind: 'rule' } : { kind: 'exception', exception: d.decidedBy.exception },
          explanation: d.explanation,
          generatedDelivery: delivery.rows[0] ?? null,
        },
      };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/admin/subscriptions/holidays',
    summary: 'Holiday: skip every active subscription of a region on a date (one call)',
    tag: 'subscriptions',
    capability: 'subscription:admin',
    body: HolidayBody,
    idempotent: true,
    responses: { 202: { description: 'Accepted; the holiday workflow adds and announces the skips' } },
    handler: async ({ principal, body, deps, audit }) => {
      const today = localDateOf(Date.now(), 'Asia/Kolkata');
      if (body.date <= addDays(today, 1)) throw new ApiError(422, 'starts_in_past', `A holiday must be after tomorrow (${addDays(today, 1)}): those orders are locked`);
      const workflowId = `holiday-${body.region}-${body.date}`;
      const handle = await deps.temporal.workflow.start('regionHolidayWorkflow', {
        taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
        workflowId,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        args: [{ region: body.region, date: body.date, reason: body.reason, createdBy: `admin:${principal.userId}`, createdAt: DateTime.utc().toISO() }],
      });
      await audit('subscription.holiday', { type: 'region', id: body.region }, { date: body.date, reason: body.reason });
      return { status: 202, body: { workflowId: handle.workflowId, region: body.region, date: body.date } };
    },
  });
}
