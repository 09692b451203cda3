import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { z } from 'zod';
import { deliveryDayCloseScheduleId, type CloseDeliveryDayInput } from '../../contracts/fulfilment';
import { setSequences, setSubscriptionAddress, subscriptionAddress } from '../../db/fulfilment-addresses';
import {
  areaStaff,
  assignStaff,
  findArea,
  isAssigned,
  listAreas,
  unassignStaff,
  upsertArea,
  type DeliveryArea,
} from '../../db/fulfilment-areas';
import { listDaySummaries } from '../../db/fulfilment-day';
import { deliveryCreditJournals, deliveryRecords, outcomeHistory, subscriptionCredits } from '../../db/fulfilment-history';
import { recordOutcomes, type OutcomeAnswer, type OutcomeInput, type Reporter } from '../../db/fulfilment-outcomes';
import { loadRouteSheet, type RouteSheetEntry } from '../../db/fulfilment-route';
import { loadSubscriptionExceptions } from '../../db/subscription-exceptions';
import { loadSubscriptionRow, scheduleOfRow, type SubscriptionRow } from '../../db/subscriptions';
import type { Db } from '../../db/knex';
import { can } from '../../domain/capabilities';
import { DELIVERY_ID, FAILURE_REASONS, deliveryIdOf, deliveryStreak, routeVersion } from '../../domain/fulfilment';
import { rejection } from '../../domain/rejection';
import {
  MAX_SUPPORTED_DATE,
  MIN_SUPPORTED_DATE,
  isSupportedLocalDate,
  isValidLocalDate,
  isValidTimezone,
  localDateOf,
  type Decision,
} from '../../domain/schedule';
import { closeDeliveryDayWorkflow } from '../../workflows/fulfilment';
import { assertOwnerOr, type Principal } from '../auth';
import { ApiError, notFound } from '../errors';
import { boundedInstant } from '../instants';
import type { ApiRouter, RouteContext } from '../router';
import {
  DaySummaryAnswerSchema,
  DeliveryAreaListSchema,
  DeliveryAreaSavedSchema,
  DeliveryAreaStaffSchema,
  OutcomeAnswerSchema,
  RouteSheetSchema,
  SequenceAnswerSchema,
  SubscriptionAddressAnswerSchema,
  SyncAnswerSchema,
} from '../views/delivery';

// ---------------------------------------------------------------------------------------------
// Schemas

const AREA_ID = /^[a-z0-9_-]{1,32}$/;
const AreaId = z.string().regex(AREA_ID, 'an area id: 1-32 of a-z 0-9 _ - (the holiday region’s name)');
const DATE = z
  .string()
  .refine(isValidLocalDate, 'must be a date YYYY-MM-DD')
  .refine(isSupportedLocalDate, `must lie between ${MIN_SUPPORTED_DATE} and ${MAX_SUPPORTED_DATE}`);
// Bounded here like every instant the API takes; the outcome rules then hold it to the delivery's own day.
const Instant = boundedInstant().describe('when it happened (ISO-8601 with offset), on the delivery day in the area’s time zone');
const Note = z.string().min(1).max(500);
const Reason = z.enum(FAILURE_REASONS);
const DeliveryParams = z.strictObject({ deliveryId: z.string().regex(DELIVERY_ID, 'a delivery id: <subscriptionId>-<YYYY-MM-DD>') });
const AreaParams = z.strictObject({ areaId: AreaId });
const StaffParams = AreaParams.extend({ userId: z.string().regex(/^[A-Za-z0-9_.:@-]{1,128}$/, 'a user id') });
const SubscriptionParams = z.strictObject({ subscriptionId: z.string().regex(/^sub_[a-z0-9]{8,40}$/) });

const RouteQuery = z.strictObject({
  date: DATE,
  area: AreaId,
  since: z.string().max(40).optional().describe('the version the phone holds: unchanged, the answer carries no deliveries'),
});
const DeliveredBody = z.strictObject({ at: Instant, note: Note.optional() });
const FailedBody = z.strictObject({ reason: Reason, at: Instant, note: Note.optional() });
const SyncOutcome = z.discriminatedUnion('outcome', [
  z.strictObject({ deliveryId: DeliveryParams.shape.deliveryId, outcome: z.literal('delivered'), at: Instant, note: Note.optional() }),
  z.strictObject({
    deliveryId: DeliveryParams.shape.deliveryId,
    outcome: z.literal('failed'),
    reason: Reason,
    at: Instant,
    note: Note.optional(),
  }),
]);
const MAX_SYNC = 500;
const SyncBody = z.strictObject({
  outcomes: z.array(SyncOutcome).min(1).max(MAX_SYNC),
  route: z
    .strictObject({ area: AreaId, date: DATE, version: z.string().max(40) })
    .optional()
    .describe('the route sheet the phone holds: the answer says whether it changed'),
});
const CorrectBody = z
  .strictObject({
    outcome: z.enum(['delivered', 'failed']),
    reason: Reason.optional(),
    note: Note.describe('why ops changed it (kept in the delivery’s history and the audit log)'),
    at: Instant.optional().describe('default: the time already reported'),
  })
  .refine((b) => (b.outcome === 'failed') === (b.reason !== undefined), 'a failed outcome needs a reason; a delivered one takes none');
const SummaryQuery = z.strictObject({ date: DATE, area: AreaId.optional() });
const SequenceBody = z.strictObject({
  addresses: z
    .array(z.strictObject({ addressId: z.string().regex(/^adr_[a-f0-9]{24}$/), sequence: z.number().int().min(0).max(100_000) }))
    .min(1)
    .max(2_000)
    .refine((list) => new Set(list.map((a) => a.addressId)).size === list.length, 'each address once'),
});
const AreaBody = z.strictObject({
  name: z.string().min(1).max(100),
  timezone: z.string().min(1).max(64).default('Asia/Kolkata'),
  cutoff: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:mm')
    .default('12:00')
    .describe('local time the day closes: deliveries still unreported then become unconfirmed'),
  creditNotHome: z.boolean().default(false).describe('credit a delivery failed because nobody was home'),
  creditNoAccess: z.boolean().default(true).describe('credit a delivery failed because the building could not be entered'),
});
const AddressBody = z.strictObject({ line: z.string().trim().min(3).max(300), notes: z.string().max(500).optional() });

// ---------------------------------------------------------------------------------------------
// Who may act where

/** Ops (support, admin) act on every area; a delivery person on the areas they are assigned to. */
const actsOnEveryArea = (principal: Principal) => can(principal.roles, 'delivery:manage:any');

async function areaFor(ctx: RouteContext<unknown, unknown, unknown>, areaId: string): Promise<DeliveryArea> {
  const area = await findArea(ctx.deps.db, areaId);
  if (!area) throw new ApiError(404, 'area_not_found', `No delivery area ${areaId}`, { areaId });
  if (!actsOnEveryArea(ctx.principal) && !(await isAssigned(ctx.deps.db, areaId, ctx.principal.userId))) {
    throw new ApiError(403, 'not_assigned', `You are not assigned to area ${areaId}`, { areaId });
  }
  return area;
}

// ---------------------------------------------------------------------------------------------
// Views

function routeStops(entries: RouteSheetEntry[]) {
  return entries.map((e) => ({
    deliveryId: e.deliveryId,
    sequence: e.sequence,
    quantity: e.quantity,
    productId: e.product.productId,
    addressId: e.address?.addressId ?? null,
    addressLine: e.address?.line ?? null,
    notes: e.address?.notes ?? null,
  }));
}

async function currentRouteVersion(db: Db, areaId: string, date: string): Promise<string> {
  return routeVersion(routeStops(await loadRouteSheet(db, areaId, date)));
}

/** A single report answered with an HTTP status: refusals by their kind, everything else 200. */
function singleAnswer(answer: OutcomeAnswer) {
  if (answer.result === 'rejected') {
    const e = answer.error!;
    throw rejection(e.kind, e.code, e.message, {
      deliveryId: answer.deliveryId,
      ...(answer.delivery ? { delivery: answer.delivery } : {}),
    });
  }
  return { status: 200, body: answer };
}

function outcomeInput(
  deliveryId: string,
  b: { outcome: 'delivered' | 'failed'; reason?: string; note?: string; at?: string },
): OutcomeInput {
  return {
    deliveryId,
    outcome: b.outcome,
    reason: (b.reason ?? null) as OutcomeInput['reason'],
    note: b.note ?? null,
    atMs: b.at === undefined ? null : Date.parse(b.at),
  };
}

const staff = (principal: Principal): Reporter => ({ userId: principal.userId, source: 'staff' });

// ---------------------------------------------------------------------------------------------
// For the subscription routes (api/routes/subscriptions.ts): the streak and credits on the
// subscription, outcomes and credits on its deliveries, and the fulfilment of a date in explain.

/** The streak (today in the subscription's time zone), the credits its deliveries carry and its address. */
export async function subscriptionFulfilment(db: Db, row: SubscriptionRow, nowMs = Date.now()) {
  const [exceptions, records, credits, address] = await Promise.all([
    loadSubscriptionExceptions(db, row.id),
    deliveryRecords(db, row.id),
    subscriptionCredits(db, row.id),
    subscriptionAddress(db, row.id),
  ]);
  const streak = deliveryStreak({
    subscription: scheduleOfRow(row),
    exceptions,
    deliveries: records.map((r) => ({ date: r.date, status: r.status, customerCaused: r.customerCaused })),
    asOf: localDateOf(nowMs, row.timezone),
  });
  return { streak, credits, address };
}

/**
 * The schedule's deliveries between two dates with what happened to each: the outcome and the
 * credit where one was recorded, and the recorded deliveries the schedule no longer shows (a day
 * generated before a later change), so a customer's history is complete.
 */
export async function deliveriesWithOutcomes(db: Db, subscriptionId: string, decisions: Decision[], from: string, to: string) {
  const records = new Map((await deliveryRecords(db, subscriptionId, { from, to })).map((r) => [r.date, r]));
  const dates = [...new Set([...decisions.map((d) => d.date), ...records.keys()])].sort();
  const byDate = new Map(decisions.map((d) => [d.date, d]));
  return dates.map((date) => {
    const d = byDate.get(date);
    const r = records.get(date);
    return {
      date,
      deliveryId: deliveryIdOf(subscriptionId, date),
      quantity: r?.quantity ?? d!.quantity,
      reason: d?.reason ?? null,
      explanation: d?.explanation ?? 'recorded delivery (the schedule has changed since)',
      status: r?.status ?? 'not_generated',
      failureReason: r?.failureReason ?? null,
      outcomeAt: r?.outcomeAt ?? null,
      corrected: r?.corrected ?? false,
      credit: r?.credit ?? null,
    };
  });
}

/** What happened to the delivery of a date, for explain: outcome, every report, and the credit journals. */
export async function explainFulfilment(db: Db, subscriptionId: string, date: string) {
  const [record] = await deliveryRecords(db, subscriptionId, { from: date, to: date });
  if (!record) return null;
  const [history, journals] = await Promise.all([outcomeHistory(db, subscriptionId, date), deliveryCreditJournals(db, record.deliveryId)]);
  return { ...record, history, creditJournals: journals };
}

// ---------------------------------------------------------------------------------------------
// The end-of-day Schedules (one per area)

function cronAt(hhmm: string): string {
  const [hours, minutes] = hhmm.split(':').map(Number);
  return `${minutes} ${hours} * * *`;
}

/** Creates the area's end-of-day Schedule, or brings it up to date (a changed cutoff or time zone), keeping ops' pause state. */
export async function ensureAreaCloseSchedule(
  client: Client,
  area: Pick<DeliveryArea, 'areaId' | 'timezone' | 'cutoff'>,
  taskQueue: string,
): Promise<string> {
  const scheduleId = deliveryDayCloseScheduleId(area.areaId);
  const options = {
    spec: { cronExpressions: [cronAt(area.cutoff)], timezone: area.timezone },
    action: {
      type: 'startWorkflow' as const,
      workflowType: closeDeliveryDayWorkflow,
      taskQueue,
      args: [{ areaId: area.areaId }] as [CloseDeliveryDayInput],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
  };
  try {
    await client.schedule.create({ scheduleId, ...options });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, ...options }));
  }
  return scheduleId;
}

/** Every area's Schedule, at start-up (areas created while the system ran already have theirs). */
export async function ensureAreaCloseSchedules(client: Client, db: Db, taskQueue: string): Promise<number> {
  const areas = await listAreas(db);
  for (const area of areas) await ensureAreaCloseSchedule(client, area, taskQueue);
  return areas.length;
}

// ---------------------------------------------------------------------------------------------
// Routes

/** Delivery staff's routes and reports, ops' corrections and summaries, and the admin of areas and staff. */
export function registerDeliveryRoutes(api: ApiRouter): void {
  registerStaffRoutes(api);
  registerOpsRoutes(api);
  registerAdminRoutes(api);
}

function registerStaffRoutes(api: ApiRouter): void {
  api.route({
    method: 'get',
    path: '/v1/delivery/areas',
    summary: 'The delivery areas the caller covers (ops: every area)',
    tag: 'delivery',
    capability: ['delivery:work', 'delivery:manage:any'],
    responses: { 200: { description: 'Areas with their time zone, cutoff and credit policy', schema: DeliveryAreaListSchema } },
    handler: async ({ principal, deps }) => {
      const areas = await listAreas(deps.db, actsOnEveryArea(principal) ? {} : { assignedTo: principal.userId });
      return { status: 200, body: { areas } };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/delivery/route',
    summary: 'The route sheet of an area for a day: every delivery in route order, with a version token for offline phones',
    description:
      'Ordered by the sequence ops set per address (unsequenced stops last), then by address and subscription, so two fetches of ' +
      'the same data list the same order. `version` covers what is to be delivered (stops, order, quantities, addresses, notes), not ' +
      'outcomes: send it back as `since` and an unchanged sheet answers `unchanged: true` without the deliveries.',
    tag: 'delivery',
    capability: ['delivery:work', 'delivery:manage:any'],
    query: RouteQuery,
    responses: {
      200: { description: 'The sheet, or `unchanged: true` when `since` is still current', schema: RouteSheetSchema },
      403: { description: 'Not assigned to the area (`not_assigned`)' },
      404: { description: 'No such area (`area_not_found`)' },
    },
    handler: async (ctx) => {
      const area = await areaFor(ctx, ctx.query.area);
      const entries = await loadRouteSheet(ctx.deps.db, area.areaId, ctx.query.date);
      const version = routeVersion(routeStops(entries));
      const head = { areaId: area.areaId, date: ctx.query.date, timezone: area.timezone, cutoff: area.cutoff, version };
      if (ctx.query.since === version) return { status: 200, body: { ...head, unchanged: true } };
      return { status: 200, body: { ...head, unchanged: false, count: entries.length, deliveries: entries } };
    },
  });

  for (const outcome of ['delivered', 'failed'] as const) {
    api.route({
      method: 'post',
      path: `/v1/delivery/deliveries/:deliveryId/${outcome}`,
      summary:
        outcome === 'delivered'
          ? 'Report a delivery handed over (idempotent; accepted late, `at` on the delivery day)'
          : 'Report a delivery that could not be made, with the reason (idempotent; accepted late); a credit follows the area’s policy',
      tag: 'delivery',
      capability: 'delivery:work',
      params: DeliveryParams,
      body: outcome === 'delivered' ? DeliveredBody : FailedBody,
      idempotent: true,
      responses: {
        200: {
          description: '`result`: applied, duplicate (already so), or superseded (a later report stands); the delivery as it is now',
          schema: OutcomeAnswerSchema,
        },
        404: { description: 'No such delivery on your routes (`delivery_not_found`)' },
        409: { description: 'Ops corrected this delivery (`corrected_by_ops`)' },
        422: { description: '`at` not on the delivery day (`at_outside_day`) or in the future (`at_in_future`)' },
      },
      handler: async (ctx) => {
        const body = ctx.body as { reason?: string; note?: string; at: string };
        const [answer] = await recordOutcomes(
          ctx.deps.db,
          staff(ctx.principal),
          [outcomeInput(ctx.params.deliveryId, { ...body, outcome })],
          Date.now(),
        );
        return singleAnswer(answer);
      },
    });
  }

  api.route({
    method: 'post',
    path: '/v1/delivery/sync',
    summary: 'Sync a route’s outcomes recorded offline: each one answered on its own, each applied once',
    description:
      'Outcomes are decided in order against the deliveries as the previous ones left them, and all of them are stored in one ' +
      'transaction. A refused outcome (not on your routes, `at` off the day, corrected by ops) changes nothing and does not stop ' +
      'the others. Repeats are `duplicate`; a report older than the one recorded is `superseded`.',
    tag: 'delivery',
    capability: 'delivery:work',
    body: SyncBody,
    idempotent: true,
    responses: {
      200: {
        description: 'One result per outcome, in order; `route.changed` when the sheet the phone holds is stale',
        schema: SyncAnswerSchema,
      },
    },
    handler: async ({ principal, body, deps }) => {
      const inputs = body.outcomes.map((o) => outcomeInput(o.deliveryId, o));
      const results = await recordOutcomes(deps.db, staff(principal), inputs, Date.now());
      const applied = results.filter((r) => r.result === 'applied').length;
      let route: { areaId: string; date: string; version: string; changed: boolean } | undefined;
      if (body.route) {
        const version = await currentRouteVersion(deps.db, body.route.area, body.route.date);
        route = { areaId: body.route.area, date: body.route.date, version, changed: version !== body.route.version };
      }
      return { status: 200, body: { applied, results, ...(route ? { route } : {}) } };
    },
  });

  api.route({
    method: 'put',
    path: '/v1/delivery/subscriptions/:subscriptionId/address',
    summary: 'Where a subscription is delivered: an address in its area (the same line for the same customer is one stop)',
    tag: 'delivery',
    capability: ['subscription:manage', 'subscription:manage:any'],
    params: SubscriptionParams,
    body: AddressBody,
    responses: {
      200: { description: 'The address, with the sequence ops set (null until they place it)', schema: SubscriptionAddressAnswerSchema },
      422: { description: 'The subscription’s region has no delivery area yet (`area_not_configured`)' },
    },
    handler: async (ctx) => {
      const row = await loadSubscriptionRow(ctx.deps.db, ctx.params.subscriptionId);
      if (!row) throw notFound('subscription');
      assertOwnerOr(ctx.principal, row.customer_id, 'subscription:manage:any');
      const area = await findArea(ctx.deps.db, row.region);
      if (!area) {
        throw rejection('invalid', 'area_not_configured', `Region ${row.region} has no delivery area yet`, { region: row.region });
      }
      const address = await ctx.deps.db.transaction((trx) =>
        setSubscriptionAddress(trx, {
          subscriptionId: row.id,
          customerId: row.customer_id,
          areaId: area.areaId,
          line: ctx.body.line,
          notes: ctx.body.notes ?? null,
        }),
      );
      await ctx.audit('delivery.address', { type: 'subscription', id: row.id }, { addressId: address.addressId });
      return { status: 200, body: { subscriptionId: row.id, address } };
    },
  });
}

function registerOpsRoutes(api: ApiRouter): void {
  api.route({
    method: 'post',
    path: '/v1/ops/deliveries/:deliveryId/correct',
    summary: 'Ops: correct a delivery’s outcome after following it up (audited; its credit follows; the history keeps every report)',
    tag: 'delivery',
    capability: 'delivery:manage:any',
    params: DeliveryParams,
    body: CorrectBody,
    idempotent: true,
    responses: {
      200: { description: '`result`: applied or duplicate; the delivery as it is now', schema: OutcomeAnswerSchema },
      404: { description: 'No such delivery (`delivery_not_found`)' },
      422: { description: '`at` not on the delivery day (`at_outside_day`)' },
    },
    handler: async (ctx) => {
      const ops: Reporter = { userId: ctx.principal.userId, source: 'ops' };
      const [answer] = await recordOutcomes(ctx.deps.db, ops, [outcomeInput(ctx.params.deliveryId, ctx.body)], Date.now());
      const result = singleAnswer(answer);
      if (answer.result === 'applied') {
        await ctx.audit(
          'delivery.correct',
          { type: 'delivery', id: ctx.params.deliveryId },
          { outcome: ctx.body.outcome, reason: ctx.body.reason ?? null, note: ctx.body.note, revision: answer.delivery?.revision },
        );
      }
      return result;
    },
  });

  api.route({
    method: 'get',
    path: '/v1/ops/deliveries/summary',
    summary: 'Ops: how a day went, per area — delivered, failed by reason, unconfirmed, credits (stored by each area’s end-of-day close)',
    tag: 'delivery',
    capability: 'ops:read',
    query: SummaryQuery,
    responses: {
      200: { description: 'The areas whose day has closed, their totals, and the areas not closed yet', schema: DaySummaryAnswerSchema },
    },
    handler: async ({ query, deps }) => {
      const areas = await listDaySummaries(deps.db, query.date, query.area ? [query.area] : undefined);
      const closed = new Set(areas.map((a) => a.areaId));
      const notClosed = (await listAreas(deps.db))
        .map((a) => a.areaId)
        .filter((id) => !closed.has(id) && (!query.area || id === query.area));
      const sum = (f: (a: (typeof areas)[number]) => number) => areas.reduce((t, a) => t + f(a), 0);
      const totals = {
        total: sum((a) => a.total),
        delivered: sum((a) => a.delivered),
        failed: sum((a) => a.failed),
        failedByReason: Object.fromEntries(FAILURE_REASONS.map((r) => [r, sum((a) => a.failedByReason[r] ?? 0)])),
        unconfirmed: sum((a) => a.unconfirmed),
        credits: sum((a) => a.credits),
        creditedAmount: sum((a) => a.creditedAmount),
      };
      return { status: 200, body: { date: query.date, areas, totals, notClosed } };
    },
  });

  api.route({
    method: 'put',
    path: '/v1/ops/delivery/areas/:areaId/sequence',
    summary: 'Ops: set the route order of an area’s addresses (one call for a whole reorder; audited)',
    tag: 'delivery',
    capability: 'delivery:manage:any',
    params: AreaParams,
    body: SequenceBody,
    responses: {
      200: { description: 'Updated', schema: SequenceAnswerSchema },
      404: { description: 'No such area' },
      422: { description: 'Addresses that are not in this area (`unknown_addresses`); nothing was changed' },
    },
    handler: async (ctx) => {
      const area = await areaFor(ctx, ctx.params.areaId);
      const unknown = await ctx.deps.db.transaction((trx) => setSequences(trx, area.areaId, ctx.body.addresses));
      if (unknown.length > 0) {
        throw rejection('invalid', 'unknown_addresses', `Not addresses of area ${area.areaId}: ${unknown.join(', ')}`, {
          addressIds: unknown,
        });
      }
      await ctx.audit('delivery.sequence', { type: 'area', id: area.areaId }, { addresses: ctx.body.addresses.length });
      return { status: 200, body: { areaId: area.areaId, updated: ctx.body.addresses.length } };
    },
  });
}

function registerAdminRoutes(api: ApiRouter): void {
  api.route({
    method: 'put',
    path: '/v1/admin/delivery/areas/:areaId',
    summary: 'Admin: create or change a delivery area (its id is the holiday region’s); its end-of-day Schedule follows (audited)',
    tag: 'delivery',
    capability: 'delivery:admin',
    params: AreaParams,
    body: AreaBody,
    responses: {
      200: { description: 'Changed', schema: DeliveryAreaSavedSchema },
      201: { description: 'Created, with its Schedule', schema: DeliveryAreaSavedSchema },
    },
    handler: async (ctx) => {
      const { body, params, deps } = ctx;
      if (!isValidTimezone(body.timezone)) {
        throw new ApiError(400, 'validation_failed', 'The area is invalid', { problems: ['timezone: unknown IANA timezone'] });
      }
      // Row and Schedule together: a Schedule that cannot be written rolls the row back.
      const { area, created, scheduleId } = await deps.db.transaction(async (trx) => {
        const saved = await upsertArea(trx, { areaId: params.areaId, ...body }, `admin:${ctx.principal.userId}`);
        const id = await ensureAreaCloseSchedule(deps.temporal, saved.area, deps.config.TEMPORAL_TASK_QUEUE);
        return { ...saved, scheduleId: id };
      });
      await ctx.audit(created ? 'delivery.area_create' : 'delivery.area_update', { type: 'area', id: area.areaId }, { ...body });
      return { status: created ? 201 : 200, body: { area, scheduleId, staff: await areaStaff(deps.db, area.areaId) } };
    },
  });

  for (const action of ['assign', 'unassign'] as const) {
    api.route({
      method: action === 'assign' ? 'put' : 'delete',
      path: '/v1/admin/delivery/areas/:areaId/staff/:userId',
      summary:
        action === 'assign'
          ? 'Admin: assign a delivery person (a user with the delivery role) to an area (audited)'
          : 'Admin: take a delivery person off an area (audited)',
      tag: 'delivery',
      capability: 'delivery:admin',
      params: StaffParams,
      responses: {
        200: { description: 'The area’s staff now; `changed` false when it already was so', schema: DeliveryAreaStaffSchema },
        404: { description: 'No such area' },
      },
      handler: async (ctx) => {
        const { areaId, userId } = ctx.params;
        if (!(await findArea(ctx.deps.db, areaId))) throw new ApiError(404, 'area_not_found', `No delivery area ${areaId}`, { areaId });
        const by = `admin:${ctx.principal.userId}`;
        const changed =
          action === 'assign' ? await assignStaff(ctx.deps.db, areaId, userId, by) : await unassignStaff(ctx.deps.db, areaId, userId);
        if (changed) await ctx.audit(`delivery.staff_${action}`, { type: 'area', id: areaId }, { userId });
        return { status: 200, body: { areaId, changed, staff: await areaStaff(ctx.deps.db, areaId) } };
      },
    });
  }
}
