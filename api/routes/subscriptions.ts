import { WorkflowNotFoundError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { holidayWorkflowId } from '../../contracts/delivery-generation';
import {
  INITIAL_FLOW_STATUS,
  cancelUpdate,
  changeQuantityUpdate,
  deliverExtraUpdate,
  pauseUpdate,
  paymentMethodUpdate,
  resumeUpdate,
  skipUpdate,
  stateQuery,
  subscriptionWorkflowId,
  type SubscriptionFlowView,
  type SubscriptionWorkflowInput,
} from '../../contracts/subscription';
import { rejection } from '../../domain/rejection';
import { DEFAULT_TIMEZONE } from '../../domain/rules';
import {
  CHANGE_REASONS,
  HOLIDAY_REASONS,
  MAX_DAYS_AHEAD,
  MAX_END_DAYS_AHEAD,
  MAX_SUPPORTED_DATE,
  MIN_SUPPORTED_DATE,
  PAUSE_REASONS,
  MAX_DELIVERY_QUANTITY,
  SKIP_REASONS,
  addDays,
  daysAhead,
  daysBetween,
  deliveriesBetween,
  isSupportedLocalDate,
  isValidLocalDate,
  isValidTimezone,
  localDateOf,
  validateExceptionRequest,
  validateRecurrenceRequest,
  wouldDeliver,
  type ExceptionRequest,
  type LocalDate,
  type Recurrence,
} from '../../domain/schedule';
import {
  DEFAULT_SUBSCRIPTION_SETTINGS,
  earliestChangeableDate,
  pricingProblems,
  quotePlan,
  type SubscriptionRecord,
} from '../../domain/subscription';
import { isUniqueViolation } from '../../db/errors';
import { findDelivery } from '../../db/subscription-deliveries';
import { loadSubscriptionExceptions } from '../../db/subscription-exceptions';
import { listRenewals } from '../../db/subscription-renewals';
import {
  findCatalogProduct,
  insertSubscribableProduct,
  insertSubscriptionRow,
  listCustomerSubscriptions,
  loadSubscriptionRow,
  scheduleOfRow,
  sellerExists,
  type SubscriptionRow,
} from '../../db/subscriptions';
import { CustomerId, FlowStatus } from '../../workflows/search-attributes';
import { subscriptionWorkflow } from '../../workflows/subscription';
import { regionHolidayWorkflow } from '../../workflows/subscription-generation';
import { paymentMethodSchema } from '../schemas';
import { assertOwnerOr, isStaff } from '../auth';
import { ApiError, notFound } from '../errors';
import type { ApiRouter, RouteContext, RouteResult } from '../router';
import { startFlow } from '../flow-start';
import { subjectOf } from '../subject';
import { deliveriesWithOutcomes, explainFulfilment, subscriptionFulfilment } from './delivery';
import {
  CancelResultSchema,
  DeliveryExplanationSchema,
  DeliveryListSchema,
  ExceptionAcceptedSchema,
  HolidayAcceptedSchema,
  PaymentMethodResultSchema,
  RenewalListSchema,
  ResumeResultSchema,
  SubscribableProductSchema,
  SubscriptionDetailSchema,
  SubscriptionListSchema,
  SubscriptionSchema,
  subscriptionBody,
} from '../views/subscriptions';

/** Well-formed dates only; how far a date may reach is a 422 decided by the domain's bounds rule (handlers). */
const DATE = z.string().refine(isValidLocalDate, 'must be a date YYYY-MM-DD');
const QTY = z.number().int().min(1).max(MAX_DELIVERY_QUANTITY);
const ChangeReason = { reason: z.enum(CHANGE_REASONS).optional() };
const CatalogId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -');

const RecurrenceSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('daily') }),
    z.strictObject({ kind: z.literal('every_n_days'), n: z.number().int().min(2).max(366) }),
    z.strictObject({ kind: z.literal('days_of_week'), days: z.array(z.number().int().min(1).max(7)).min(1).max(7) }),
    z.strictObject({
      kind: z.literal('days_of_month'),
      days: z
        .array(z.union([z.number().int().min(1).max(31), z.literal('last')]))
        .min(1)
        .max(31),
    }),
  ])
  // The domain's rule for a new recurrence (e.g. each weekday at most once), as schema issues.
  .superRefine((r, ctx) => {
    for (const code of validateRecurrenceRequest(r as Recurrence)) ctx.addIssue({ code: 'custom', path: ['days'], message: code });
  });

const CreateBody = z.strictObject({
  productId: CatalogId.describe('a subscribable catalog product; its price per unit and delivery sets the charge'),
  quantity: QTY,
  recurrence: RecurrenceSchema,
  startDate: DATE.describe(`from the earliest changeable date to ${MAX_DAYS_AHEAD} days ahead`),
  endDate: DATE.optional(),
  timezone: z.string().min(1).max(64).default(DEFAULT_TIMEZONE),
  region: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/)
    .default('default'),
  paymentMethod: paymentMethodSchema,
});
const IdParams = z.strictObject({ subscriptionId: z.string().regex(/^sub_[a-z0-9]{8,40}$/) });
const ListQuery = z.strictObject({ customerId: z.string().min(1).max(128).optional() });
const PauseBody = z.strictObject({ from: DATE, to: DATE.nullable().default(null), reason: z.enum(PAUSE_REASONS).default('vacation') });
const ResumeBody = z.strictObject({ from: DATE.optional() });
const SkipBody = z.strictObject({ from: DATE, to: DATE, reason: z.enum(SKIP_REASONS).optional() });
const ExtraBody = z.strictObject({ date: DATE, quantity: QTY, ...ChangeReason });
const QuantityBody = z.strictObject({ from: DATE, to: DATE, quantity: QTY, ...ChangeReason });
const CancelBody = z.strictObject({ from: DATE.optional(), reason: z.string().min(1).max(40).optional().describe('a note for support') });
const PaymentMethodBody = z.strictObject({ paymentMethod: paymentMethodSchema });
const RangeQuery = z.strictObject({ from: DATE, to: DATE });
const ExplainQuery = z.strictObject({ date: DATE });
const RenewalsQuery = z.strictObject({
  beforePeriod: z.coerce.number().int().min(1).max(1_000_000).optional().describe('page back: periods before this one'),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
const HolidayBody = z.strictObject({
  region: z.string().regex(/^[a-z0-9_-]{1,32}$/),
  date: DATE,
  reason: z.enum(HOLIDAY_REASONS).default('holiday'),
});
const ProductBody = z.strictObject({
  productId: CatalogId,
  sellerId: CatalogId,
  name: z.string().min(1).max(200),
  unitPrice: z.number().int().min(1).max(10_000_000).describe('paise per unit per delivery'),
  unit: z.string().min(1).max(40).describe('what one unit is, e.g. "500 ml"'),
  stock: z.number().int().min(0).max(1_000_000).default(0).describe('for one-off checkout orders; subscriptions do not draw on it'),
});

const MAX_RANGE_DAYS = 366;

/** Loads the subscription and checks the caller may act on it (customers: their own only). */
async function owned(
  ctx: RouteContext<unknown, unknown, { subscriptionId: string }>,
  anyCapability: 'subscription:manage:any' | 'subscription:explain:any',
) {
  const row = await loadSubscriptionRow(ctx.deps.db, ctx.params.subscriptionId);
  if (!row) throw notFound('subscription');
  assertOwnerOr(ctx.principal, row.customer_id, anyCapability);
  return row;
}

/** Who the workflow records as the author of a change. */
function actor(ctx: RouteContext<unknown, unknown, unknown>, customerId: string): string {
  return ctx.principal.userId === customerId && !isStaff(ctx.principal.roles)
    ? `customer:${customerId}`
    : `support:${ctx.principal.userId}`;
}

/** Reads answer for dates of the supported calendar only (beyond it nothing can be computed). */
function assertReadable(...dates: LocalDate[]): void {
  const bad = dates.filter((d) => !isSupportedLocalDate(d));
  if (bad.length)
    throw rejection('invalid', 'date_out_of_range', `Dates must lie between ${MIN_SUPPORTED_DATE} and ${MAX_SUPPORTED_DATE}`, {
      dates: bad,
    });
}

/**
 * The domain's date rules on a change, before the workflow sees it: past, cutoff, at most
 * MAX_DAYS_AHEAD ahead and — with `life` — within the subscription's start and end. The workflow
 * checks again against its own state (cancelled, nothing to resume…) and stays the authority.
 */
function assertChangeDates(row: SubscriptionRow, req: ExceptionRequest, life: { start: boolean }): void {
  const nowMs = Date.now();
  const codes = validateExceptionRequest(req, {
    today: localDateOf(nowMs, row.timezone),
    nowMs,
    timezone: row.timezone,
    cutoff: DEFAULT_SUBSCRIPTION_SETTINGS.cutoff,
    startDate: life.start ? row.start_date : null,
    endDate: row.end_date,
  });
  if (codes.length) throw rejection('invalid', codes[0], `The request was rejected: ${codes.join(', ')}`, { codes });
}

/**
 * Sends a validated update; the workflow's validator is the authority on dates (cutoff, past, order)
 * and its rejection is answered as such by the API's error handler.
 */
async function sendUpdate<T, A>(
  ctx: RouteContext<unknown, unknown, { subscriptionId: string }>,
  row: SubscriptionRow,
  update: UpdateDefinition<T, [A]>,
  arg: A,
  auditAction: string,
): Promise<T> {
  try {
    // With an Idempotency-Key the update id is the key's: a retry after a lost answer gets the first
    // outcome from the workflow instead of applying the change again.
    const updateId = ctx.newId(`${auditAction}:`, 40);
    const result = await ctx.deps.temporal.workflow
      .getHandle(subscriptionWorkflowId(row.id))
      .executeUpdate(update, { args: [arg], updateId });
    await ctx.audit(auditAction, { type: 'subscription', id: row.id }, { request: arg as Record<string, unknown> });
    return result;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw rejection('conflict', 'subscription_not_running', 'The subscription is no longer running');
    throw err;
  }
}

function assertNotCancelled(row: SubscriptionRow): void {
  if (row.status === 'cancelled')
    throw rejection('conflict', 'subscription_cancelled', `The subscription is cancelled from ${row.cancelled_from}`);
}

/**
 * One change to a subscription: the caller may act on it, it is not cancelled, `checkDates` (the
 * domain's date rules for this change, when it has dates) passes, and the workflow takes the update
 * recording who asked.
 */
async function changeSubscription<B extends Omit<A, 'createdBy'>, A extends { createdBy?: string }, T>(
  ctx: RouteContext<B, unknown, { subscriptionId: string }>,
  update: UpdateDefinition<T, [A]>,
  auditAction: string,
  checkDates?: (row: SubscriptionRow, body: B) => void,
): Promise<RouteResult> {
  const row = await owned(ctx, 'subscription:manage:any');
  assertNotCancelled(row);
  checkDates?.(row, ctx.body);
  // B holds every field of A but createdBy (the constraint above), so this is an A.
  const request = { ...ctx.body, createdBy: actor(ctx, row.customer_id) } as unknown as A;
  return { status: 200, body: await sendUpdate(ctx, row, update, request, auditAction) };
}

/** The catalog product a subscription is for: it must exist, be subscribable and on sale. */
async function subscribableProduct(ctx: RouteContext<unknown, unknown, unknown>, productId: string) {
  const product = await findCatalogProduct(ctx.deps.db, productId);
  if (!product) throw rejection('invalid', 'product_not_found', `No product ${productId} in the catalog`, { productId });
  if (!product.subscribable || !product.active || product.unit === null) {
    throw rejection('invalid', 'product_not_subscribable', `Product ${productId} cannot be subscribed to`, {
      productId,
      subscribable: product.subscribable,
      active: product.active,
    });
  }
  return product as typeof product & { unit: string };
}

export function registerSubscriptionRoutes(api: ApiRouter): void {
  api.route({
    method: 'post',
    path: '/v1/subscriptions',
    summary:
      'Subscribe: a recurring delivery of a catalog product, priced from the catalog and billed monthly (wallet first, then the payment method)',
    tag: 'subscriptions',
    capability: 'subscription:manage',
    body: CreateBody,
    idempotent: true,
    rateLimit: 'money',
    responses: {
      201: {
        description: 'Created; the subscription workflow is running. `pricing` shows how the charge per period was computed',
        schema: SubscriptionSchema,
      },
      422: { description: 'Start too soon or too far, end too far, product unknown or not subscribable, nothing to deliver in a period' },
    },
    handler: async (ctx) => {
      const { principal, body, deps } = ctx;
      const id = ctx.newId('sub_', 24);
      // A retry that took over a dead instance's claim: the first attempt's subscription stands.
      const earlier = await loadSubscriptionRow(deps.db, id);
      if (earlier) return { status: 201, body: subscriptionBody(earlier) };
      const problems: string[] = [];
      if (!isValidTimezone(body.timezone)) problems.push('timezone: unknown IANA timezone');
      if (body.endDate && body.endDate < body.startDate) problems.push('endDate: before startDate');
      if (problems.length) throw new ApiError(400, 'validation_failed', 'The subscription is invalid', { problems });
      const nowMs = Date.now();
      const today = localDateOf(nowMs, body.timezone);
      const earliest = earliestChangeableDate(nowMs, body.timezone, DEFAULT_SUBSCRIPTION_SETTINGS.cutoff);
      if (body.startDate < earliest)
        throw rejection('invalid', 'start_too_soon', `The first delivery can be on ${earliest} at the earliest`, { earliest });
      if (daysAhead(today, body.startDate) > MAX_DAYS_AHEAD) {
        const latest = addDays(today, MAX_DAYS_AHEAD);
        throw rejection('invalid', 'start_too_far', `The first delivery can be on ${latest} at the latest`, { latest });
      }
      if (body.endDate && daysAhead(today, body.endDate) > MAX_END_DAYS_AHEAD) {
        const latest = addDays(today, MAX_END_DAYS_AHEAD);
        throw rejection('invalid', 'end_too_far', `The end date can be ${latest} at the latest`, { latest });
      }

      const product = await subscribableProduct(ctx, body.productId);
      const plan = {
        recurrence: body.recurrence as Recurrence,
        startDate: body.startDate,
        endDate: body.endDate ?? null,
        quantity: body.quantity,
        timezone: body.timezone,
      };
      // The API starts the workflow with the default settings, so it bills by their period.
      const pricing = quotePlan(plan, product.price, DEFAULT_SUBSCRIPTION_SETTINGS.billingPeriod);
      const unpriceable = pricingProblems(pricing);
      if (unpriceable.length) throw rejection('invalid', unpriceable[0], 'This plan cannot be priced', { problems: unpriceable, pricing });

      const sub: SubscriptionRecord = {
        id,
        customerId: principal.userId,
        productId: product.productId,
        pricePerPeriod: pricing.periodCharge,
        unitPrice: pricing.unitPrice,
        ...plan,
        region: body.region,
        paymentMethod: body.paymentMethod,
      };
      await deps.db.transaction(async (trx) => {
        await insertSubscriptionRow(trx, sub, { unit: product.unit, deliveriesPerPeriod: pricing.deliveriesPerPeriod });
        const input: SubscriptionWorkflowInput = { subscription: sub };
        await startFlow(deps, subscriptionWorkflow, {
          workflowId: subscriptionWorkflowId(id),
          args: [input],
          typedSearchAttributes: [
            { key: CustomerId, value: sub.customerId },
            { key: FlowStatus, value: INITIAL_FLOW_STATUS },
          ],
        });
      });
      return { status: 201, body: subscriptionBody((await loadSubscriptionRow(deps.db, id))!) };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/subscriptions',
    summary: "The caller's subscriptions (support: any customer's with ?customerId=)",
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    query: ListQuery,
    responses: { 200: { description: 'Subscriptions, newest first', schema: SubscriptionListSchema } },
    handler: async ({ principal, query, deps }) => {
      const customerId = subjectOf(principal, query.customerId, 'subscription:manage:any');
      const rows = await listCustomerSubscriptions(deps.db, customerId);
      return { status: 200, body: { subscriptions: rows.map(subscriptionBody) } satisfies z.output<typeof SubscriptionListSchema> };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/subscriptions/:subscriptionId',
    summary:
      'A subscription, its exceptions, its delivery streak and credits, and (while it runs) the workflow state: billing, dunning and why',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    params: IdParams,
    responses: { 200: { description: 'The subscription', schema: SubscriptionDetailSchema } },
    handler: async (ctx) => {
      const row = await owned(ctx, 'subscription:manage:any');
      // The row is the workflow's projection; the workflow's own view is shown beside it, never merged.
      let workflow: SubscriptionFlowView | null = null;
      try {
        workflow = await ctx.deps.temporal.workflow.getHandle(subscriptionWorkflowId(row.id)).query(stateQuery);
      } catch {
        workflow = null; // finished or not reachable: Postgres still answers
      }
      const [exceptions, fulfilment] = await Promise.all([
        loadSubscriptionExceptions(ctx.deps.db, row.id),
        subscriptionFulfilment(ctx.deps.db, row),
      ]);
      return {
        status: 200,
        body: {
          ...subscriptionBody(row),
          exceptions,
          // Consecutive scheduled days delivered (vacations and holidays neither break nor extend it), and missed-delivery credits.
          streak: fulfilment.streak,
          credits: fulfilment.credits,
          deliveryAddress: fulfilment.address,
          workflow,
        } satisfies z.output<typeof SubscriptionDetailSchema>,
      };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/subscriptions/:subscriptionId/pause',
    summary: 'Pause from a date (to a date, or until resumed)',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    idempotent: 'optional',
    params: IdParams,
    body: PauseBody,
    responses: {
      200: { description: 'Accepted: the exception id', schema: ExceptionAcceptedSchema },
      409: { description: 'The subscription is cancelled or no longer running (`subscription_cancelled`, `subscription_not_running`)' },
      422: { description: 'Rejected (past, after cutoff, end before start…): `details.codes`' },
    },
    handler: (ctx) =>
      changeSubscription(ctx, pauseUpdate, 'subscription.pause', (row, b) =>
        assertChangeDates(row, { type: 'skip', from: b.from, to: b.to }, { start: true }),
      ),
  });

  api.route({
    method: 'post',
    path: '/v1/subscriptions/:subscriptionId/resume',
    summary: 'Resume early: ends your pauses from a date (default: the earliest changeable date)',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    idempotent: 'optional',
    params: IdParams,
    body: ResumeBody,
    responses: {
      200: { description: 'The pauses that were ended', schema: ResumeResultSchema },
      409: { description: 'The subscription is cancelled or no longer running (`subscription_cancelled`, `subscription_not_running`)' },
      422: { description: 'Rejected by the schedule rules (past, after the cutoff, outside the subscription…): `details.codes`' },
    },
    handler: (ctx) =>
      changeSubscription(ctx, resumeUpdate, 'subscription.resume', (row, b) => {
        if (b.from !== undefined) assertChangeDates(row, { type: 'skip', from: b.from, to: null }, { start: false });
      }),
  });

  api.route({
    method: 'post',
    path: '/v1/subscriptions/:subscriptionId/skip',
    summary: 'Skip a date or range',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    idempotent: 'optional',
    params: IdParams,
    body: SkipBody,
    responses: {
      200: { description: 'Accepted: the exception id', schema: ExceptionAcceptedSchema },
      409: { description: 'The subscription is cancelled or no longer running (`subscription_cancelled`, `subscription_not_running`)' },
      422: { description: 'Rejected by the schedule rules (past, after the cutoff, outside the subscription…): `details.codes`' },
    },
    handler: (ctx) =>
      changeSubscription(ctx, skipUpdate, 'subscription.skip', (row, b) =>
        assertChangeDates(row, { type: 'skip', from: b.from, to: b.to }, { start: true }),
      ),
  });

  api.route({
    method: 'post',
    path: '/v1/subscriptions/:subscriptionId/extra',
    summary: 'Deliver an extra quantity on a date (also on a day without delivery)',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    idempotent: 'optional',
    params: IdParams,
    body: ExtraBody,
    responses: {
      200: { description: 'Accepted: the exception id', schema: ExceptionAcceptedSchema },
      409: { description: 'The subscription is cancelled or no longer running (`subscription_cancelled`, `subscription_not_running`)' },
      422: { description: 'Rejected by the schedule rules (past, after the cutoff, outside the subscription…): `details.codes`' },
    },
    handler: (ctx) =>
      changeSubscription(ctx, deliverExtraUpdate, 'subscription.deliver_extra', (row, b) =>
        assertChangeDates(row, { type: 'deliver_extra', from: b.date, to: b.date, quantity: b.quantity }, { start: true }),
      ),
  });

  api.route({
    method: 'post',
    path: '/v1/subscriptions/:subscriptionId/quantity',
    summary: 'Change the quantity over a date range',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    idempotent: 'optional',
    params: IdParams,
    body: QuantityBody,
    responses: {
      200: { description: 'Accepted: the exception id', schema: ExceptionAcceptedSchema },
      409: { description: 'The subscription is cancelled or no longer running (`subscription_cancelled`, `subscription_not_running`)' },
      422: { description: 'Rejected by the schedule rules (past, after the cutoff, outside the subscription…): `details.codes`' },
    },
    handler: (ctx) =>
      changeSubscription(ctx, changeQuantityUpdate, 'subscription.change_quantity', (row, b) =>
        assertChangeDates(row, { type: 'change_quantity', from: b.from, to: b.to, quantity: b.quantity }, { start: true }),
      ),
  });

  api.route({
    method: 'post',
    path: '/v1/subscriptions/:subscriptionId/cancel',
    summary: 'Cancel from a date (default: the earliest changeable date); no further renewals',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    idempotent: 'optional',
    params: IdParams,
    body: CancelBody,
    responses: {
      200: { description: 'Cancelled from the given date', schema: CancelResultSchema },
      409: { description: 'The subscription is cancelled or no longer running (`subscription_cancelled`, `subscription_not_running`)' },
      422: { description: 'Rejected by the schedule rules (past, after the cutoff, outside the subscription…): `details.codes`' },
    },
    // Cancelling before the first delivery is fine: only the horizon and the end date bound it.
    handler: (ctx) =>
      changeSubscription(ctx, cancelUpdate, 'subscription.cancel', (row, b) => {
        if (b.from !== undefined) assertChangeDates(row, { type: 'skip', from: b.from, to: null }, { start: false });
      }),
  });

  api.route({
    method: 'post',
    path: '/v1/subscriptions/:subscriptionId/payment-method',
    summary: 'Update the payment method; a renewal in dunning is retried at once',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    idempotent: 'optional',
    params: IdParams,
    body: PaymentMethodBody,
    responses: {
      200: { description: 'Updated; `retried` tells whether a failed renewal was retried', schema: PaymentMethodResultSchema },
      409: { description: 'The subscription is cancelled or no longer running (`subscription_cancelled`, `subscription_not_running`)' },
      422: { description: 'Rejected by the schedule rules (past, after the cutoff, outside the subscription…): `details.codes`' },
    },
    handler: (ctx) => changeSubscription(ctx, paymentMethodUpdate, 'subscription.payment_method'),
  });

  api.route({
    method: 'get',
    path: '/v1/subscriptions/:subscriptionId/deliveries',
    summary: 'The delivery dates and quantities between two dates, with what happened to each: outcome and credit (at most 366 days)',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    params: IdParams,
    query: RangeQuery,
    responses: {
      200: {
        description: 'Delivery dates with quantities and reasons; recorded ones with their status, failure reason and credit',
        schema: DeliveryListSchema,
      },
      422: { description: 'A date outside the supported calendar (`date_out_of_range`)' },
    },
    handler: async (ctx) => {
      const { from, to } = ctx.query;
      if (to < from) throw new ApiError(400, 'to_before_from', '`to` is before `from`');
      if (daysBetween(from, to) >= MAX_RANGE_DAYS) throw new ApiError(400, 'range_too_long', `At most ${MAX_RANGE_DAYS} days per request`);
      assertReadable(from, to);
      const row = await owned(ctx, 'subscription:manage:any');
      const list = deliveriesBetween(scheduleOfRow(row), await loadSubscriptionExceptions(ctx.deps.db, row.id), from, to);
      return {
        status: 200,
        body: {
          subscriptionId: row.id,
          from,
          to,
          deliveries: await deliveriesWithOutcomes(ctx.deps.db, row.id, list, from, to),
        },
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
    responses: {
      200: { description: 'The decision and its provenance', schema: DeliveryExplanationSchema },
      422: { description: 'A date outside the supported calendar (`date_out_of_range`)' },
    },
    handler: async (ctx) => {
      assertReadable(ctx.query.date);
      const row = await owned(ctx, 'subscription:explain:any');
      const d = wouldDeliver(scheduleOfRow(row), await loadSubscriptionExceptions(ctx.deps.db, row.id), ctx.query.date);
      const delivery = await findDelivery(ctx.deps.db, row.id, ctx.query.date);
      if (ctx.principal.userId !== row.customer_id)
        await ctx.audit('subscription.explain', { type: 'subscription', id: row.id }, { date: ctx.query.date });
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
          generatedDelivery: delivery,
          // What happened to that day's delivery: outcome, every report, and the credit journals (wallet refType `delivery`).
          fulfilment: await explainFulfilment(ctx.deps.db, row.id, ctx.query.date),
        },
      };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/subscriptions/:subscriptionId/renewals',
    summary:
      'The renewals: each period with its amount, status and how it was paid (wallet, or the provider with its payment id), newest first',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    params: IdParams,
    query: RenewalsQuery,
    responses: { 200: { description: 'Renewals, newest period first; page back with beforePeriod', schema: RenewalListSchema } },
    handler: async (ctx) => {
      const row = await owned(ctx, 'subscription:manage:any');
      const renewals = await listRenewals(ctx.deps.db, row.id, { beforePeriod: ctx.query.beforePeriod, limit: ctx.query.limit });
      return { status: 200, body: { subscriptionId: row.id, renewals } };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/admin/products',
    summary: 'Admin: list a subscribable product for a registered seller (price per unit per delivery, and what a unit is)',
    tag: 'subscriptions',
    capability: 'subscription:admin',
    body: ProductBody,
    responses: {
      201: { description: 'Listed', schema: SubscribableProductSchema },
      409: { description: 'Product id taken' },
      422: { description: 'Unknown seller' },
    },
    handler: async ({ body, deps, audit }) => {
      if (!(await sellerExists(deps.db, body.sellerId)))
        throw rejection('invalid', 'seller_not_found', `Seller ${body.sellerId} is not registered`, { sellerId: body.sellerId });
      try {
        const product = await insertSubscribableProduct(deps.db, body);
        await audit(
          'product.create',
          { type: 'product', id: body.productId },
          { sellerId: body.sellerId, unitPrice: body.unitPrice, unit: body.unit },
        );
        return { status: 201, body: product satisfies z.output<typeof SubscribableProductSchema> };
      } catch (err) {
        if (isUniqueViolation(err)) throw rejection('conflict', 'product_exists', `Product ${body.productId} already exists`);
        throw err;
      }
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
    responses: { 202: { description: 'Accepted; the holiday workflow adds and announces the skips', schema: HolidayAcceptedSchema } },
    handler: async ({ principal, body, deps, audit }) => {
      const today = localDateOf(Date.now(), DEFAULT_TIMEZONE);
      if (body.date <= addDays(today, 1))
        throw rejection('invalid', 'starts_in_past', `A holiday must be after tomorrow (${addDays(today, 1)}): those orders are locked`);
      if (daysAhead(today, body.date) > MAX_DAYS_AHEAD) {
        const latest = addDays(today, MAX_DAYS_AHEAD);
        throw rejection('invalid', 'too_far_ahead', `A holiday can be on ${latest} at the latest`, { latest });
      }
      const workflowId = holidayWorkflowId(body.region, body.date);
      const handle = await startFlow(deps, regionHolidayWorkflow, {
        workflowId,
        args: [
          {
            region: body.region,
            date: body.date,
            reason: body.reason,
            createdBy: `admin:${principal.userId}`,
            createdAt: DateTime.utc().toISO(),
          },
        ],
      });
      await audit('subscription.holiday', { type: 'region', id: body.region }, { date: body.date, reason: body.reason });
      return {
        status: 202,
        body: { workflowId: handle.workflowId, region: body.region, date: body.date } satisfies z.output<typeof HolidayAcceptedSchema>,
      };
    },
  });
}
