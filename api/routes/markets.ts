import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { z } from 'zod';
import {
  FINISHED_MARKET_STATUSES,
  MARKET_STATUSES,
  TRADING_PHASES,
  closeMarketUpdate,
  marketStateQuery,
  marketWorkflowId,
  resolveMarketUpdate,
  resumeMarketUpdate,
  suspendMarketUpdate,
  voidMarketUpdate,
  type MarketInput,
  type MarketState,
  type MarketStatus,
} from '../../contracts/market';
import { boundedInstant } from '../instants';
import { insertMarket, scheduleClose } from '../../db/market-lifecycle';
import { marketIntake, requestCancel, type CancelRequestResult, type IntakeResult } from '../../db/market-intake';
import { requestCancelAll, requestCancels, requestReduce } from '../../db/market-order-requests';
import { CANDLE_INTERVAL_MS, lastTradedPrice, marketCandles, recentTrades, type CandleInterval } from '../../db/market-candles';
import {
  committedView,
  getMarket,
  getOrder,
  listMarkets,
  marketFeeBps as readMarketFeeBps,
  listUserOrders,
  orderView,
  userPositions,
  type MarketRow,
} from '../../db/market-queries';
import type { Capability } from '../../domain/capabilities';
import { DEFAULT_SLIPPAGE_BPS, MAX_PRICE, MIN_PRICE, TICK } from '../../domain/market';
import { maxBuyCost } from '../../domain/market/costs';
import { marketWakeChannel } from '../../domain/market/feed';
import { marketWorkflow } from '../../workflows/market';
import { FlowStatus, MarketId } from '../../workflows/search-attributes';
import { assertOwnerOr } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, notFound } from '../errors';
import type { ApiRouter } from '../router';
import { startFlow } from '../flow-start';
import { subjectOf } from '../subject';
import {
  MarketAfterActionSchema,
  MarketListSchema,
  MarketOrderAcceptedSchema,
  MarketOrderCancelSchema,
  MarketOrderListSchema,
  MarketOrderSchema,
  MarketPositionsSchema,
  MarketSchema,
  MarketWithBookSchema,
  marketBody,
} from '../views/markets';
import {
  MarketCancelAllSchema,
  MarketCancelBatchSchema,
  MarketCandlesSchema,
  MarketTradesSchema,
  MarketOrderAmendSchema,
  MarketOrderBatchSchema,
} from '../views/market-orders';

type MarketAfterAction = z.output<typeof MarketAfterActionSchema>;

const MAX_ORDER_QTY = 100_000;
const DEFAULT_FEE_BPS = 200;
/**
 * Reading another user's market orders and positions: support and admin, who read anyone's orders
 * (there is no market-specific `:any` capability; a customer passing someone else's id gets a 404).
 */
const READ_ANY_TRADER: Capability = 'order:read:any';
/** How long a void waits for the refunds to finish before answering with the state so far. */
const VOID_WAIT_MS = 10_000;

const Price = z.number().int().min(MIN_PRICE).max(MAX_PRICE).multipleOf(TICK).describe('paise, a multiple of 50 from 50 to 950');
const MarketParams = z.strictObject({ marketId: z.string().regex(/^mk_[a-z0-9]{8,40}$/) });
const OrderParams = MarketParams.extend({ orderId: z.string().regex(/^mo_[a-f0-9]{32}$/) });

const CreateBody = z
  .strictObject({
    question: z.string().trim().min(5).max(300),
    opensAt: boundedInstant(),
    closesAt: boundedInstant(),
    feeBps: z.number().int().min(0).max(1000).default(DEFAULT_FEE_BPS),
    disputeWindowSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .default(0),
    resolutionDeadlineSeconds: z
      .number()
      .int()
      .min(1)
      .max(30 * 86_400)
      .default(3_600),
    suspendCancelsOrders: z
      .boolean()
      .default(true)
      .describe('in play: a suspension cancels resting orders (holds released), or keeps them'),
    resumeDelaySeconds: z.number().int().min(0).max(600).default(0).describe('after a resume, how long until trading restarts'),
  })
  .refine((b) => Date.parse(b.closesAt) > Date.parse(b.opensAt), { message: 'closesAt must be after opensAt', path: ['closesAt'] })
  .refine((b) => Date.parse(b.closesAt) > Date.now(), { message: 'closesAt must be in the future', path: ['closesAt'] });

const OrderBody = z.strictObject({
  clientOrderId: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, '1-64 characters of A-Z a-z 0-9 _ . : -'),
  side: z.enum(['YES', 'NO']),
  action: z.enum(['BUY', 'SELL']),
  price: Price,
  quantity: z.number().int().min(1).max(MAX_ORDER_QTY),
  tif: z.enum(['GTC', 'IOC', 'FOK']).default('GTC'),
  seenPrice: Price.optional().describe('the price the user saw, for slippage protection'),
  slippageBps: z.number().int().min(0).max(10_000).default(DEFAULT_SLIPPAGE_BPS),
  expiresAt: boundedInstant().optional().describe('good-till-date (GTC only): what still rests then is expired and its hold released'),
  postOnly: z
    .boolean()
    .default(false)
    .describe('GTC only: rejected (post_only_would_take, with the price) if any of it would match on arrival'),
});
type OrderBodyOut = z.output<typeof OrderBody>;

/** Most orders (or cancels) in one batch call. */
const MAX_BATCH = 20;
const BatchBody = z.strictObject({ orders: z.array(OrderBody).min(1).max(MAX_BATCH) });
const OrderId = z.string().regex(/^mo_[a-f0-9]{32}$/);
const BatchCancelBody = z.strictObject({ orderIds: z.array(OrderId).min(1).max(MAX_BATCH) });
const AmendBody = z
  .strictObject({
    quantity: z
      .number()
      .int()
      .min(0)
      .max(MAX_ORDER_QTY)
      .optional()
      .describe('the new total quantity (filled included); lower keeps priority'),
    price: Price.optional().describe('a new limit: the order is cancelled and a new one placed'),
    clientOrderId: OrderBody.shape.clientOrderId.optional().describe('the new order’s clientOrderId, needed when the amend is a replace'),
  })
  .refine((b) => b.quantity !== undefined || b.price !== undefined, { message: 'give quantity, price or both' });
const SuspendBody = z.strictObject({
  source: z.string().trim().min(3).max(100).optional().describe('who asked: an admin, or a ball-by-ball feed'),
});
const ResumeBody = z.strictObject({
  delaySeconds: z.number().int().min(0).max(600).optional().describe('until trading restarts; the market’s resumeDelaySeconds when absent'),
});
const CandlesQuery = z.strictObject({
  interval: z.enum(['1s', '1m', '5m']).default('1m'),
  from: boundedInstant().optional().describe('default: 60 intervals before `to`'),
  to: boundedInstant().optional().describe('default: now'),
});
const TradesQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) });
/** Most candles one call answers with. */
const MAX_CANDLES = 1_440;

const CloseBody = z.strictObject({ at: boundedInstant().optional() });
const ResolveBody = z.strictObject({ outcome: z.enum(['YES', 'NO']), source: z.string().trim().min(3).max(300) });
const VoidBody = z.strictObject({ reason: z.string().trim().min(3).max(300) });
const ListQuery = z.strictObject({
  status: z.enum(MARKET_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
const MineQuery = z.strictObject({
  userId: z.string().min(1).max(128).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** The admin's lifecycle actions: each is a route `/v1/markets/:marketId/<action>` and an update of the market's workflow. */
type LifecycleAction = 'close' | 'resolve' | 'void' | 'suspend' | 'resume';

/** A market's fee never changes after creation, so intake need not read it every time. */
const feeCache = new Map<string, number>();
async function marketFeeBps(deps: ApiDeps, marketId: string): Promise<number | null> {
  const cached = feeCache.get(marketId);
  if (cached !== undefined) return cached;
  const feeBps = await readMarketFeeBps(deps.db, marketId);
  if (feeBps === null) return null;
  if (feeCache.size > 10_000) feeCache.clear();
  feeCache.set(marketId, feeBps);
  return feeBps;
}

const INTAKE_ERRORS: Record<string, [number, string]> = {
  market_not_found: [404, 'market not found'],
  market_not_open: [409, 'the market is not open for trading'],
  market_suspended: [409, 'the market is suspended (a ball is in play); try again once it resumes'],
  client_order_id_reused: [409, 'this clientOrderId was already used for a different order in this market'],
  insufficient_funds: [409, 'your available balance does not cover this order'],
  insufficient_position: [409, 'you do not hold enough unlocked contracts to sell'],
};

/**
 * Runs a lifecycle update on the market workflow. A transition the market's phase refuses is a
 * rejection from the workflow's validator, answered by the API's error handler (409 with its code).
 */
async function updateMarket<A>(deps: ApiDeps, marketId: string, update: UpdateDefinition<MarketState, [A]>, arg: A): Promise<MarketState> {
  const handle = deps.temporal.workflow.getHandle(marketWorkflowId(marketId));
  try {
    return await handle.executeUpdate(update, { args: [arg] });
  } catch (err) {
    // It finished between our read and the update.
    if (err instanceof WorkflowNotFoundError) throw new ApiError(409, 'market_finished', 'market has already finished');
    throw err;
  }
}

export function registerMarketRoutes(api: ApiRouter): void {
  api.route({
    method: 'post',
    path: '/v1/markets',
    summary: 'Create a market (admin); its workflow opens and closes it on time',
    tag: 'markets',
    capability: 'market:admin',
    body: CreateBody,
    idempotent: true,
    responses: { 201: { description: 'The market', schema: MarketSchema } },
    handler: async ({ body, principal, deps, audit }) => {
      const marketId = `mk_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
      const row = await deps.db.transaction(async (trx) => {
        const inserted = await insertMarket(trx, {
          id: marketId,
          question: body.question,
          opensAt: new Date(body.opensAt),
          closesAt: new Date(body.closesAt),
          feeBps: body.feeBps,
          disputeWindowSeconds: body.disputeWindowSeconds,
          resolutionDeadlineSeconds: body.resolutionDeadlineSeconds,
          createdBy: principal.userId,
          suspendCancelsOrders: body.suspendCancelsOrders,
          resumeDelaySeconds: body.resumeDelaySeconds,
        });
        const input: MarketInput = {
          marketId,
          opensAt: new Date(body.opensAt).toISOString(),
          closesAt: new Date(body.closesAt).toISOString(),
          disputeWindowSeconds: body.disputeWindowSeconds,
          resolutionDeadlineSeconds: body.resolutionDeadlineSeconds,
        };
        await startFlow(deps, marketWorkflow, {
          workflowId: marketWorkflowId(marketId),
          args: [input],
          typedSearchAttributes: [
            { key: MarketId, value: marketId },
            { key: FlowStatus, value: 'scheduled' },
          ],
        });
        return inserted;
      });
      await audit('market.create', { type: 'market', id: marketId }, { question: body.question });
      return { status: 201, body: marketBody(row as MarketRow) };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/markets',
    summary: 'Markets, newest first, with their current prices',
    tag: 'markets',
    capability: 'market:read',
    query: ListQuery,
    responses: { 200: { description: 'Markets', schema: MarketListSchema } },
    handler: async ({ query, deps }) => {
      const rows = await listMarkets(deps.db, query.status, query.limit);
      const markets = await Promise.all(
        rows.map(async (r) => {
          const v = await committedView(deps.db, r.id);
          return { ...marketBody(r), prices: { yes: v.yes, no: v.no, lastPrice: v.lastPrice, volume: v.volume } };
        }),
      );
      return { status: 200, body: { markets } satisfies z.output<typeof MarketListSchema> };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/markets/:marketId',
    summary: 'A market with its order book (YES terms) and last price',
    tag: 'markets',
    capability: 'market:read',
    params: MarketParams,
    responses: { 200: { description: 'The market and its book', schema: MarketWithBookSchema } },
    handler: async ({ params, deps }) => {
      const row = await getMarket(deps.db, params.marketId);
      if (!row) throw notFound('market');
      const body: z.output<typeof MarketWithBookSchema> = { ...marketBody(row), book: await committedView(deps.db, row.id) };
      return { status: 200, body };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/markets/:marketId/orders',
    summary: 'Place an order; accepted durably (funds held) before the engine matches it',
    tag: 'markets',
    capability: 'market:trade',
    params: MarketParams,
    body: OrderBody,
    rateLimit: 'orders',
    responses: {
      202: { description: 'Accepted; follow it on the WebSocket or GET the order', schema: MarketOrderAcceptedSchema },
      409: {
        description:
          'Not accepted: the market is not open or is suspended (market_suspended), the clientOrderId was used for another order, ' +
          'or the wallet or position is short',
      },
      422: { description: 'Post-only or good-till-date without tif GTC, or an expiresAt already past' },
    },
    handler: async ({ params, body, principal, deps }) => {
      const placed = await placeOrders(deps, params.marketId, principal.userId, [body]);
      const [one] = placed;
      if (one.error) throw new ApiError(one.status, one.error.code, one.error.message, one.error.details);
      return {
        status: 202,
        body: { orderId: one.orderId!, seq: one.seq!, status: 'accepted', replayed: one.replayed! } satisfies z.output<
          typeof MarketOrderAcceptedSchema
        >,
      };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/markets/:marketId/orders/batch',
    summary: `Place up to ${MAX_BATCH} orders at once; each has its own result`,
    tag: 'markets',
    capability: 'market:trade',
    params: MarketParams,
    body: BatchBody,
    rateLimit: 'orders',
    responses: { 200: { description: 'One result per order, in request order', schema: MarketOrderBatchSchema } },
    handler: async ({ params, body, principal, deps }) => {
      const results = await placeOrders(deps, params.marketId, principal.userId, body.orders);
      return { status: 200, body: { marketId: params.marketId, results } satisfies z.output<typeof MarketOrderBatchSchema> };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/markets/:marketId/orders/batch-cancel',
    summary: `Ask the engine to cancel up to ${MAX_BATCH} orders; each has its own result`,
    tag: 'markets',
    capability: 'market:trade',
    params: MarketParams,
    body: BatchCancelBody,
    rateLimit: 'orders',
    responses: { 200: { description: 'One result per order, in request order', schema: MarketCancelBatchSchema } },
    handler: async ({ params, body, principal, deps }) => {
      if (!(await getMarket(deps.db, params.marketId))) throw notFound('market');
      const outcomes = await requestCancels(deps.db, params.marketId, body.orderIds, principal.userId);
      if (outcomes.includes('requested')) wake(deps, params.marketId);
      const results = body.orderIds.map((orderId, i) => {
        const error = outcomes[i] === 'requested' ? null : cancelRefusal(outcomes[i]);
        return { orderId, cancelRequested: error === null, error: error && { code: error.code, message: error.message } };
      });
      return { status: 200, body: { marketId: params.marketId, results } satisfies z.output<typeof MarketCancelBatchSchema> };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/markets/:marketId/orders/cancel-all',
    summary: 'Ask the engine to cancel all my live orders in this market',
    tag: 'markets',
    capability: 'market:trade',
    params: MarketParams,
    rateLimit: 'orders',
    responses: { 202: { description: 'Cancels queued', schema: MarketCancelAllSchema } },
    handler: async ({ params, principal, deps }) => {
      if (!(await getMarket(deps.db, params.marketId))) throw notFound('market');
      const orders = await requestCancelAll(deps.db, principal.userId, params.marketId);
      if (orders.length > 0) wake(deps, params.marketId);
      return {
        status: 202,
        body: { marketId: params.marketId, cancelRequested: orders.length, orders } satisfies z.output<typeof MarketCancelAllSchema>,
      };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/markets/orders/cancel-all',
    summary: 'Ask the engines to cancel all my live orders in every open market',
    tag: 'markets',
    capability: 'market:trade',
    rateLimit: 'orders',
    responses: { 202: { description: 'Cancels queued', schema: MarketCancelAllSchema } },
    handler: async ({ principal, deps }) => {
      const orders = await cancelAllOrdersOf(deps, principal.userId);
      return {
        status: 202,
        body: { marketId: null, cancelRequested: orders.length, orders } satisfies z.output<typeof MarketCancelAllSchema>,
      };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/markets/:marketId/orders/:orderId/amend',
    summary:
      'Amend an order: a lower quantity keeps its time priority; a new price or a higher quantity is a cancel plus a new order (and says so)',
    tag: 'markets',
    capability: 'market:trade',
    params: OrderParams,
    body: AmendBody,
    rateLimit: 'orders',
    responses: {
      202: { description: 'Decrease queued, or the order replaced', schema: MarketOrderAmendSchema },
      409: { description: 'The order is no longer open, or the market is not open' },
      422: { description: 'A replace without a clientOrderId for the new order' },
    },
    handler: async ({ params, body, principal, deps }) => {
      const row = await getOrder(deps.db, params.orderId);
      if (!row || row.market_id !== params.marketId || row.user_id !== principal.userId) throw notFound('order');
      const quantity = body.quantity ?? row.quantity;
      const decrease = (body.price === undefined || body.price === row.price) && quantity < row.quantity;
      if (decrease) {
        const reduced = await requestReduce(deps.db, params.marketId, params.orderId, principal.userId, quantity);
        if (reduced.result === 'not_a_decrease')
          throw new ApiError(409, 'not_a_decrease', 'a decrease to at least this quantity was already asked for');
        if (reduced.result !== 'requested') throw cancelRefusal(reduced.result);
        wake(deps, params.marketId);
        return {
          status: 202,
          body: { orderId: params.orderId, kind: 'decrease', keepsPriority: true, quantity, replacement: null } satisfies z.output<
            typeof MarketOrderAmendSchema
          >,
        };
      }
      if (body.price === undefined && quantity === row.quantity)
        throw new ApiError(422, 'nothing_to_amend', 'the order already has these terms');
      if (body.clientOrderId === undefined)
        throw new ApiError(422, 'client_order_id_required', 'a new price or a higher quantity places a new order: give its clientOrderId');
      const cancelled = await requestCancel(deps.db, params.marketId, params.orderId, principal.userId);
      if (cancelled !== 'requested') throw cancelRefusal(cancelled);
      wake(deps, params.marketId);
      const [placed] = await placeOrders(deps, params.marketId, principal.userId, [
        {
          clientOrderId: body.clientOrderId,
          side: row.side,
          action: row.action,
          price: body.price ?? row.price,
          quantity,
          tif: row.tif,
          seenPrice: row.seen_price ?? undefined,
          slippageBps: row.slippage_bps,
          expiresAt: row.expires_at ? new Date(row.expires_at).toISOString() : undefined,
          postOnly: row.post_only === true,
        },
      ]);
      if (placed.error)
        throw new ApiError(
          placed.status,
          placed.error.code,
          `the order was cancelled, but its replacement was refused: ${placed.error.message}`,
          {
            ...placed.error.details,
            cancelledOrderId: params.orderId,
          },
        );
      return {
        status: 202,
        body: {
          orderId: params.orderId,
          kind: 'replace',
          keepsPriority: false,
          quantity,
          replacement: { orderId: placed.orderId!, seq: placed.seq!, status: 'accepted', replayed: placed.replayed! },
        } satisfies z.output<typeof MarketOrderAmendSchema>,
      };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/markets/:marketId/candles',
    summary: 'Price history: OHLCV candles of the YES price (1 s, 1 min or 5 min) and the last traded price',
    tag: 'markets',
    capability: 'market:read',
    params: MarketParams,
    query: CandlesQuery,
    responses: {
      200: { description: 'Candles, oldest first', schema: MarketCandlesSchema },
      422: { description: `from is not before to, or the range spans more than ${MAX_CANDLES} intervals` },
    },
    handler: async ({ params, query, deps }) => {
      if (!(await getMarket(deps.db, params.marketId))) throw notFound('market');
      const interval = query.interval as CandleInterval;
      const width = CANDLE_INTERVAL_MS[interval];
      const to = query.to ? new Date(query.to) : new Date();
      const from = query.from ? new Date(query.from) : new Date(to.getTime() - 60 * width);
      if (from.getTime() >= to.getTime()) throw new ApiError(422, 'invalid_range', 'from must be before to');
      if ((to.getTime() - from.getTime()) / width > MAX_CANDLES)
        throw new ApiError(422, 'range_too_large', `at most ${MAX_CANDLES} intervals of ${interval} in one call`, {
          interval,
          maxCandles: MAX_CANDLES,
        });
      const [candles, lastPrice] = await Promise.all([
        marketCandles(deps.db, params.marketId, interval, from, to),
        lastTradedPrice(deps.db, params.marketId),
      ]);
      return {
        status: 200,
        body: {
          marketId: params.marketId,
          interval,
          from: from.toISOString(),
          to: to.toISOString(),
          lastPrice,
          candles,
        } satisfies z.output<typeof MarketCandlesSchema>,
      };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/markets/:marketId/trades',
    summary: "The market's latest trades (price, contracts, which side took), newest first",
    tag: 'markets',
    capability: 'market:read',
    params: MarketParams,
    query: TradesQuery,
    responses: { 200: { description: 'Trades, newest first', schema: MarketTradesSchema } },
    handler: async ({ params, query, deps }) => {
      if (!(await getMarket(deps.db, params.marketId))) throw notFound('market');
      const trades = await recentTrades(deps.db, params.marketId, query.limit);
      return {
        status: 200,
        body: { marketId: params.marketId, trades } satisfies z.output<typeof MarketTradesSchema>,
      };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/markets/:marketId/orders/:orderId/cancel',
    summary: 'Ask the engine to cancel an order (it may already have filled)',
    tag: 'markets',
    capability: 'market:trade',
    params: OrderParams,
    rateLimit: 'orders',
    responses: { 202: { description: 'Cancel queued', schema: MarketOrderCancelSchema } },
    handler: async ({ params, principal, deps }) => {
      const outcome = await requestCancel(deps.db, params.marketId, params.orderId, principal.userId);
      if (outcome !== 'requested') throw cancelRefusal(outcome);
      wake(deps, params.marketId);
      return { status: 202, body: { orderId: params.orderId, cancelRequested: true } satisfies z.output<typeof MarketOrderCancelSchema> };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/markets/:marketId/orders',
    summary: "The caller's orders in a market (support, admin: any user's with ?userId=)",
    tag: 'markets',
    capability: 'market:read',
    params: MarketParams,
    query: MineQuery,
    responses: { 200: { description: 'Orders, newest first', schema: MarketOrderListSchema } },
    handler: async ({ params, query, principal, deps }) => {
      const userId = subjectOf(principal, query.userId, READ_ANY_TRADER);
      if (!(await getMarket(deps.db, params.marketId))) throw notFound('market');
      return {
        status: 200,
        body: { marketId: params.marketId, userId, orders: await listUserOrders(deps.db, params.marketId, userId, query.limit) },
      };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/markets/:marketId/orders/:orderId',
    summary: 'One order',
    tag: 'markets',
    capability: 'market:read',
    params: OrderParams,
    responses: { 200: { description: 'The order', schema: MarketOrderSchema } },
    handler: async ({ params, principal, deps }) => {
      const row = await getOrder(deps.db, params.orderId);
      if (!row || row.market_id !== params.marketId) throw notFound('order');
      assertOwnerOr(principal, row.user_id, READ_ANY_TRADER);
      return { status: 200, body: orderView(row) };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/markets/:marketId/positions',
    summary:
      "The caller's positions in a market and P&L (support, admin: any user's with ?userId=): marked at the last price while trading, " +
      'at 1000 or 0 a contract by the outcome once resolved, and at the refund of the net cost once voided (`valuation` says which)',
    tag: 'markets',
    capability: 'market:read',
    params: MarketParams,
    query: MineQuery,
    responses: { 200: { description: 'Positions and P&L', schema: MarketPositionsSchema } },
    handler: async ({ params, query, principal, deps }) => {
      const userId = subjectOf(principal, query.userId, READ_ANY_TRADER);
      const positions = await userPositions(deps.db, params.marketId, userId);
      if (!positions) throw notFound('market');
      return { status: 200, body: positions };
    },
  });

  const lifecycle = <S extends z.ZodType>(
    name: LifecycleAction,
    update: UpdateDefinition<MarketState, [z.output<S>]>,
    summary: string,
    body: S,
  ) =>
    api.route({
      method: 'post',
      path: `/v1/markets/:marketId/${name}`,
      summary,
      tag: 'markets',
      capability: 'market:admin',
      params: MarketParams,
      body,
      idempotent: true,
      responses: {
        200: {
          description:
            'The market as it is after the action (a void answers once its refunds are paid, or after 10 s with `phase: voiding`)',
          schema: MarketAfterActionSchema,
        },
        409: { description: 'Not allowed in the market’s current phase' },
        422: { description: 'A close time that is not between opensAt and the current closesAt' },
      },
      handler: async ({ params, body: payload, deps, audit }) => {
        const market = await getMarket(deps.db, params.marketId);
        if (!market) throw notFound('market');
        const finished = finishedOutcome(market, name, payload);
        if (finished) return finished;
        if (name === 'close') assertCloseTime(market, (payload as z.infer<typeof CloseBody>).at);
        let state = await updateMarket(deps, params.marketId, update, payload);
        await audit(`market.${name}`, { type: 'market', id: params.marketId }, payload as Record<string, unknown>);
        if (name === 'close' && TRADING_PHASES.includes(state.phase))
          await scheduleClose(deps.db, params.marketId, new Date(state.closesAt));
        if (name === 'void') state = await awaitVoided(deps, params.marketId, state);
        return { status: 200, body: await marketAfter(deps, params.marketId, state) };
      },
    });
  lifecycle('close', closeMarketUpdate, 'Close trading now, or move the close earlier with `at` (admin)', CloseBody);
  lifecycle('resolve', resolveMarketUpdate, 'Record the outcome and its source (admin); pays out after the dispute window', ResolveBody);
  lifecycle('void', voidMarketUpdate, 'Abandon the market (admin): every user is refunded their net cost', VoidBody);
  lifecycle(
    'suspend',
    suspendMarketUpdate,
    'Suspend trading while a ball is in play (admin, or an automated feed with an admin token): nothing matches, new orders are ' +
      'refused with market_suspended, resting orders are cancelled (holds released) unless the market keeps them',
    SuspendBody,
  );
  lifecycle('resume', resumeMarketUpdate, 'End a suspension: trading restarts after the delay (`resumesAt`)', ResumeBody);
}

/**
 * A finished market's workflow is gone; repeating the request that finished it is answered with
 * the recorded result (nothing happens again), anything else is a conflict.
 */
function finishedOutcome(market: MarketRow, name: LifecycleAction, payload: unknown) {
  if (!FINISHED_MARKET_STATUSES.includes(market.status as MarketStatus)) return null;
  const same =
    (name === 'resolve' && market.status === 'settled' && market.outcome === (payload as { outcome: string }).outcome) ||
    (name === 'void' && market.status === 'voided');
  if (!same) throw new ApiError(409, 'market_finished', `market is already ${market.status}`);
  return { status: 200, body: { ...marketBody(market), phase: market.status as MarketStatus } satisfies MarketAfterAction };
}

/**
 * A close `at` a future instant only ever moves the close earlier, and not to before the market
 * opens (its workflow would open it only to close it at once): anything else is refused here rather
 * than silently ignored. An instant already past means "close now".
 */
function assertCloseTime(market: MarketRow, at: string | undefined): void {
  if (at === undefined || Date.parse(at) <= Date.now()) return;
  const when = Date.parse(at);
  const opensAt = new Date(market.opens_at);
  const closesAt = new Date(market.closes_at);
  if (when >= closesAt.getTime() || when <= opensAt.getTime()) {
    throw new ApiError(
      422,
      'invalid_close_time',
      'a close time must be after opensAt and before the current closesAt (to stop trading now, omit `at`)',
      {
        at: new Date(when).toISOString(),
        opensAt: opensAt.toISOString(),
        closesAt: closesAt.toISOString(),
      },
    );
  }
}

/**
 * A void is accepted at once, but the market is voided only after trading stops and every refund
 * is paid: wait for the workflow to finish (bounded), else answer with how far it has got.
 */
async function awaitVoided(deps: ApiDeps, marketId: string, accepted: MarketState): Promise<MarketState> {
  const handle = deps.temporal.workflow.getHandle<typeof marketWorkflow>(marketWorkflowId(marketId));
  try {
    return await deps.temporal.workflow.withDeadline(Date.now() + VOID_WAIT_MS, () => handle.result());
  } catch {
    // Still refunding (the deadline passed), or the result could not be read: report the phase now.
    return handle.query(marketStateQuery).catch(() => accepted);
  }
}

/** The market row re-read after an action, with the workflow's finer-grained phase and counts. */
async function marketAfter(deps: ApiDeps, marketId: string, state: MarketState): Promise<MarketAfterAction> {
  const row = await getMarket(deps.db, marketId);
  return { ...marketBody(row!), phase: state.phase, cancelledAtClose: state.cancelledAtClose, usersPaid: state.usersPaid };
}

/**
 * Wakes the market's engine after a commit. Coalesced: while a wake-up for the market is in flight,
 * further ones only mark it dirty and one more is sent when it completes — so every commit is still
 * followed by a wake-up sent after it, at one Redis publish per round trip instead of per order.
 */
const wakesByPubSub = new WeakMap<object, Map<string, { dirty: boolean }>>();
function wake(deps: Pick<ApiDeps, 'pubsub' | 'logger'>, marketId: string): void {
  let wakes = wakesByPubSub.get(deps.pubsub);
  if (!wakes) wakesByPubSub.set(deps.pubsub, (wakes = new Map()));
  const inflight = wakes.get(marketId);
  if (inflight) {
    inflight.dirty = true;
    return;
  }
  const state = { dirty: false };
  wakes.set(marketId, state);
  deps.pubsub
    .publish(marketWakeChannel(marketId), 1)
    .catch((err) => deps.logger.warn({ err }, 'engine wake-up failed'))
    .finally(() => {
      wakes.delete(marketId);
      if (state.dirty) wake(deps, marketId);
    });
}

/** One order's outcome in a batch: what a single placement would have answered. */
interface PlacedOrder {
  index: number;
  status: number;
  orderId: string | null;
  seq: number | null;
  replayed: boolean | null;
  error: { code: string; message: string; details?: Record<string, unknown> } | null;
}

/** An order's own type rules that a schema cannot say: a refusal, or null. */
function orderTypeProblem(o: OrderBodyOut): PlacedOrder['error'] {
  if ((o.postOnly || o.expiresAt !== undefined) && o.tif !== 'GTC')
    return { code: 'invalid_order_type', message: 'post-only and good-till-date orders rest in the book: tif must be GTC' };
  if (o.expiresAt !== undefined && Date.parse(o.expiresAt) <= Date.now())
    return { code: 'expires_at_past', message: 'expiresAt must be in the future', details: { expiresAt: o.expiresAt } };
  return null;
}

/**
 * Places orders (one, or a batch) through intake's group commit, each on its own: a refusal of one
 * — its own type rules, funds, a clientOrderId clash — is its result alone. Wakes the engine once.
 */
async function placeOrders(deps: ApiDeps, marketId: string, userId: string, orders: readonly OrderBodyOut[]): Promise<PlacedOrder[]> {
  const feeBps = await marketFeeBps(deps, marketId);
  if (feeBps === null) throw notFound('market');
  const intake = marketIntake(deps.db);
  const results = await Promise.all(
    orders.map(async (o, index): Promise<PlacedOrder> => {
      const problem = orderTypeProblem(o);
      if (problem) return { index, status: 422, orderId: null, seq: null, replayed: null, error: problem };
      // Batched with the requests arriving alongside: one transaction for all, answered after it commits.
      const placed: IntakeResult = await intake.place({
        marketId,
        userId,
        clientOrderId: o.clientOrderId,
        side: o.side,
        action: o.action,
        price: o.price,
        quantity: o.quantity,
        tif: o.tif,
        seenPrice: o.seenPrice ?? null,
        slippageBps: o.slippageBps,
        expiresAt: o.expiresAt === undefined ? null : Date.parse(o.expiresAt),
        postOnly: o.postOnly,
        holdAmount: maxBuyCost(o.price, o.quantity, feeBps),
      });
      if (placed.result === 'accepted' || placed.result === 'replayed')
        return { index, status: 202, orderId: placed.orderId, seq: placed.seq, replayed: placed.result === 'replayed', error: null };
      const [status, message] = INTAKE_ERRORS[placed.result];
      const details = placed.result === 'client_order_id_reused' ? { orderId: placed.orderId, clientOrderId: o.clientOrderId } : undefined;
      return {
        index,
        status,
        orderId: null,
        seq: null,
        replayed: null,
        error: { code: placed.result, message, ...(details ? { details } : {}) },
      };
    }),
  );
  // The wake-up is what makes the engine read at once; without it the engine would find the
  // orders only at its watch's fallback look at Postgres, up to a second later.
  if (results.some((r) => r.status === 202)) wake(deps, marketId);
  return results;
}

/** A cancel (or decrease) the order or its market no longer allows, as the API answers it. */
function cancelRefusal(outcome: Exclude<CancelRequestResult, 'requested'>): ApiError {
  if (outcome === 'not_found') return notFound('order');
  if (outcome === 'market_not_open')
    return new ApiError(409, 'market_not_open', 'the market is not open; its orders are cancelled at close');
  return new ApiError(409, 'order_not_open', 'the order is no longer open');
}

/**
 * Queues a cancel of every live order of the user in every open market and wakes those markets'
 * engines; the orders queued. Also what cancel-on-disconnect runs (api/ws/market-session.ts).
 */
export async function cancelAllOrdersOf(
  deps: Pick<ApiDeps, 'db' | 'pubsub' | 'logger'>,
  userId: string,
): Promise<Array<{ orderId: string; marketId: string }>> {
  const orders = await requestCancelAll(deps.db, userId, null);
  for (const marketId of new Set(orders.map((o) => o.marketId))) wake(deps, marketId);
  return orders;
}
