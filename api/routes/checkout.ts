import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { z } from 'zod';
import { CartError, priceCart, type CatalogEntry } from '../../domain/checkout/pricing';
import { can } from '../../domain/capabilities';
import { rejection } from '../../domain/rejection';
import {
  CHECKOUT_SAGA_REVISION,
  awaitConfirmationUpdate,
  cancelUpdate,
  checkoutStateQuery,
  checkoutWorkflowId,
  isTerminal,
  markDeliveredUpdate,
  markDispatchedUpdate,
  orderRefundWorkflowId,
  refundUpdate,
  requestReturnUpdate,
  retryStepUpdate,
  type CheckoutActionInput,
  type CheckoutInput,
  type CheckoutState,
  type OrderRefundInput,
} from '../../contracts/checkout';
import type { Queryable } from '../../db/knex';
import { flowStartOptions, startFlow } from '../flow-start';
import { cartCatalog } from '../../db/checkout';
import {
  insertOrder,
  insertOrderRefund,
  listOrders,
  orderAccess,
  orderDetails,
  orderStatusOf,
  findOrder,
  type OrderRow,
} from '../../db/orders';
import { CustomerId, FlowStatus, OrderId, SellerId } from '../../workflows/search-attributes';
import { checkoutWorkflow, orderRefundWorkflow } from '../../workflows/checkout';
import { assertOwnerOr, type Principal } from '../auth';
import { ApiError, notFound } from '../errors';
import type { ApiRouter } from '../router';
import { paymentMethodSchema } from '../schemas';
import {
  ConfirmedOrderSchema,
  OrderActionAcceptedSchema,
  OrderDetailSchema,
  OrderListSchema,
  OrderRefundSchema,
  OrderSchema,
  orderBody,
  type OrderRefund,
  type OrderView,
} from '../views/checkout';

const Id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -');
const OrderParams = z.strictObject({ orderId: z.string().regex(/^ord_[a-f0-9]{24}$/, 'not an order id') });
const Reason = z.strictObject({ reason: z.string().min(1).max(500).optional() });

const CheckoutBody = z.strictObject({
  lines: z
    .array(
      z.strictObject({
        productId: Id,
        quantity: z.number().int().min(1).max(100),
        unitPrice: z.number().int().positive().describe('the price the buyer was shown, in paise'),
      }),
    )
    .min(1)
    .max(50),
  paymentMethod: paymentMethodSchema.optional().describe('charged when the wallet is short; without it the wallet must cover the order'),
});
const CheckoutQuery = z.strictObject({
  wait: z.enum(['true', 'false']).optional().describe('true: answer once the order is confirmed or has failed (at most 10 s)'),
});
const RefundBody = z.strictObject({
  amount: z.number().int().positive().optional().describe('paise; default: everything not yet refunded (after settlement only)'),
  reason: z.string().min(1).max(500),
});

const ListQuery = z.strictObject({
  buyerId: z.string().min(1).max(128).optional().describe("someone else's needs order:read:any"),
  sellerId: z.string().min(1).max(128).optional().describe("someone else's needs order:read:any"),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

const ORDER_WAIT_MS = 10_000;
/** How long an action on an order waits for the saga to have acted on it before answering. */
const ACTION_WAIT_MS = 5_000;

/** Full views of these orders (in their given order): two queries for their lines and timelines, however many. */
async function orderViews(q: Queryable, orders: OrderRow[]): Promise<OrderView[]> {
  const { lines, events } = await orderDetails(
    q,
    orders.map((o) => o.id),
  );
  const of = (rows: OrderRow[], id: string) => rows.filter((r) => r.order_id === id);
  return orders.map((o) => orderBody(o, of(lines, o.id), of(events, o.id)));
}

async function orderView(q: Queryable, orderId: string): Promise<OrderView> {
  const order = await findOrder(q, orderId);
  // Only ever asked for an order that was just placed or just found: gone means erased meanwhile.
  if (!order) throw notFound('order');
  return (await orderViews(q, [order]))[0];
}

/**
 * An update tells us the saga took the action, not that it has acted on it yet (the delivery is
 * recorded, the compensations run, after the update returns). Waits, bounded, until the order's
 * status shows the action's effect, then answers with the order as it is — so the caller sees the
 * state after its action, or at worst how far the saga has got.
 */
async function orderAfterAction(q: Queryable, orderId: string, done: (status: string) => boolean) {
  const deadline = Date.now() + ACTION_WAIT_MS;
  for (;;) {
    const status = await orderStatusOf(q, orderId);
    if (done(status ?? '') || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return orderView(q, orderId);
}

type ActionUpdate = typeof cancelUpdate;

/** Each action's update, and when its effect shows in the order's status. */
const ACTIONS = {
  cancel: { update: cancelUpdate, done: isTerminal },
  return: { update: requestReturnUpdate, done: isTerminal },
  refund: { update: refundUpdate, done: isTerminal },
  dispatch: { update: markDispatchedUpdate, done: (status: string) => status !== 'confirmed' },
  deliver: { update: markDeliveredUpdate, done: (status: string) => status !== 'confirmed' && status !== 'dispatched' },
  retry: { update: retryStepUpdate, done: (status: string) => status !== 'stuck' },
} satisfies Record<string, { update: ActionUpdate; done: (status: string) => boolean }>;

/** The buyer, the order's seller, and staff may see an order; everyone else gets a 404. */
async function loadVisibleOrder(q: Queryable, principal: Principal, orderId: string) {
  const order = await orderAccess(q, orderId);
  if (!order) throw notFound('order');
  const staff = can(principal.roles, 'order:read:any');
  if (!staff && principal.userId !== order.buyer_id && principal.userId !== order.seller_id) throw notFound('order');
  return order;
}

/**
 * Sends an action to the order's saga and answers with the order once the action shows. A refused
 * action is the saga's own rejection (409 `action_rejected`, answered by the error handler); a saga
 * that has finished cannot take one (409 `order_closed`).
 */
async function sagaAction(
  ctx: { deps: { temporal: Client; db: Queryable }; newId: (prefix: string, hexLength: number) => string },
  orderId: string,
  action: keyof typeof ACTIONS,
  arg: CheckoutActionInput,
) {
  const { deps } = ctx;
  // The update id comes from the request's Idempotency-Key when it has one: a retry of an action
  // already taken is answered by the saga's first outcome, not taken again (or refused as too late).
  const updateId = ctx.newId(`${action}:`, 40);
  try {
    await deps.temporal.workflow.getHandle(checkoutWorkflowId(orderId)).executeUpdate(ACTIONS[action].update, { args: [arg], updateId });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw rejection('conflict', 'order_closed', 'The order is no longer in progress');
    throw err;
  }
  return orderAfterAction(deps.db, orderId, ACTIONS[action].done);
}

export function registerCheckoutRoutes(api: ApiRouter): void {
  api.route({
    method: 'post',
    path: '/v1/checkout',
    summary: "Check out one seller's cart: reserve stock, pay into escrow (wallet first, then the payment method)",
    tag: 'checkout',
    capability: 'order:checkout',
    body: CheckoutBody,
    query: CheckoutQuery,
    idempotent: true,
    rateLimit: 'orders',
    responses: {
      201: { description: 'Confirmed: stock reserved and the money in escrow (with ?wait=true)', schema: ConfirmedOrderSchema },
      202: { description: 'Accepted; follow it with GET /v1/orders/{orderId}', schema: OrderSchema },
      409: { description: 'The saga failed (out_of_stock, payment_declined, insufficient_funds…) or a price changed' },
      422: { description: 'The cart is invalid' },
    },
    handler: async ({ principal, body, query, deps, newId }) => {
      // Derived from the caller's Idempotency-Key: a retry after a lost answer finds the same order.
      const orderId = newId('ord_', 24);
      const productIds = body.lines.map((l) => l.productId);
      const rows = await cartCatalog(deps.db, principal.userId, productIds);
      const catalog = new Map<string, CatalogEntry>(
        rows.map((r) => [r.id, { productId: r.id, sellerId: r.seller_id, price: r.price, active: r.active }]),
      );
      let cart;
      try {
        cart = priceCart(body.lines, catalog);
      } catch (err) {
        if (err instanceof CartError) throw new ApiError(err.code === 'price_changed' ? 409 : 422, err.code, err.message, err.details);
        throw err;
      }
      const first = rows[0];
      if (first.commission_bps === null) throw new ApiError(422, 'unknown_seller', 'The seller of these products is not registered');
      const input: CheckoutInput = {
        orderId,
        buyerId: principal.userId,
        sellerId: cart.sellerId,
        total: cart.total,
        paymentMethod: body.paymentMethod ?? null,
        deliveryDeadlineMs: deps.config.CHECKOUT_DELIVERY_DEADLINE_SECONDS * 1000,
        returnWindowMs: deps.config.CHECKOUT_RETURN_WINDOW_SECONDS * 1000,
        sagaRevision: CHECKOUT_SAGA_REVISION,
      };
      // A repeat of the same request (same derived id) inserts nothing.
      await insertOrder(deps.db, {
        id: orderId,
        buyerId: principal.userId,
        sellerId: cart.sellerId,
        total: cart.total,
        paymentMethod: input.paymentMethod,
        commissionBps: first.commission_bps,
        referrerId: first.referrer_id ?? null,
        referralBps: first.rate_bps ?? 0,
        deliveryDeadlineMs: input.deliveryDeadlineMs,
        returnWindowMs: input.returnWindowMs,
        lines: cart.lines,
      });

      const start = flowStartOptions(deps, checkoutWorkflow, {
        workflowId: checkoutWorkflowId(orderId),
        args: [input],
        typedSearchAttributes: [
          { key: OrderId, value: orderId },
          { key: CustomerId, value: principal.userId },
          { key: SellerId, value: cart.sellerId },
          { key: FlowStatus, value: 'pending' },
        ],
      });
      if (query.wait === 'true') {
        // One round trip starts the saga and waits for it to confirm (or fail, or get stuck); the
        // wait is bounded on our side, so the saga needs no timer of its own for it.
        let state: CheckoutState;
        try {
          state = await deps.temporal.workflow.withDeadline(Date.now() + ORDER_WAIT_MS, () =>
            deps.temporal.workflow.executeUpdateWithStart(awaitConfirmationUpdate, {
              args: [{ timeoutMs: 0 }],
              startWorkflowOperation: new WithStartWorkflowOperation(checkoutWorkflow, start),
            }),
          );
        } catch (err) {
          if (!(err instanceof WorkflowUpdateRPCTimeoutOrCancelledError)) throw err;
          // Slow saga: make sure it runs (idempotent) and answer 202.
          await deps.temporal.workflow.start(checkoutWorkflow, start);
          return { status: 202, body: await orderView(deps.db, orderId) };
        }
        if (state.confirmed && !isTerminal(state.status)) {
          // The hot path answers from what it already knows; GET /v1/orders/{id} has the timeline.
          return {
            status: 201,
            body: {
              orderId,
              workflowId: checkoutWorkflowId(orderId),
              buyerId: principal.userId,
              sellerId: cart.sellerId,
              status: 'confirmed',
              total: cart.total,
              refunded: 0,
              fundingSource: state.fundingSource,
              deliveredAt: null,
              returnWindowEndsAt: null,
              settlesAt: null,
              lines: cart.lines.map((l) => ({ productId: l.productId, quantity: l.quantity, unitPrice: l.unitPrice, amount: l.amount })),
            } satisfies z.output<typeof ConfirmedOrderSchema>,
          };
        }
        const view = await orderView(deps.db, orderId);
        if (isTerminal(state.status) && state.status !== 'completed') {
          throw new ApiError(409, state.failureCode ?? 'checkout_failed', state.failureMessage ?? 'The checkout failed', {
            orderId,
            order: view,
          });
        }
        return { status: 202, body: view };
      }
      await deps.temporal.workflow.start(checkoutWorkflow, start);
      return { status: 202, body: await orderView(deps.db, orderId) };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/orders',
    summary: "Orders, newest first: the caller's (bought or sold), or with buyerId/sellerId a buyer's or seller's (staff: anyone's)",
    tag: 'checkout',
    capability: ['order:checkout', 'seller:manage', 'order:read:any'],
    query: ListQuery,
    responses: { 200: { description: 'Orders, each as GET /v1/orders/{orderId} shows it (without the saga)', schema: OrderListSchema } },
    handler: async ({ principal, query, deps }) => {
      for (const id of [query.buyerId, query.sellerId]) if (id !== undefined) assertOwnerOr(principal, id, 'order:read:any');
      const rows = await listOrders(deps.db, {
        buyerId: query.buyerId,
        sellerId: query.sellerId,
        userId: principal.userId,
        limit: query.limit,
      });
      return { status: 200, body: { orders: await orderViews(deps.db, rows) } satisfies z.output<typeof OrderListSchema> };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/orders/:orderId',
    summary: 'An order with its lines and timeline (staff also get the saga state)',
    tag: 'checkout',
    capability: ['order:checkout', 'seller:manage', 'order:read:any'],
    params: OrderParams,
    responses: { 200: { description: 'The order; staff also get the saga state', schema: OrderDetailSchema } },
    handler: async ({ principal, params, deps }) => {
      await loadVisibleOrder(deps.db, principal, params.orderId);
      const view = await orderView(deps.db, params.orderId);
      if (!can(principal.roles, 'order:read:any')) return { status: 200, body: view };
      let saga: CheckoutState | null = null;
      try {
        saga = await deps.temporal.workflow.getHandle(checkoutWorkflowId(params.orderId)).query(checkoutStateQuery);
      } catch {
        saga = null; // the flow's history is gone or no worker answered: the database view still stands
      }
      return { status: 200, body: { ...view, saga } satisfies z.output<typeof OrderDetailSchema> };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/orders/:orderId/cancel',
    summary: 'Cancel an order: the buyer before dispatch, support before delivery. Refunds and restocks.',
    tag: 'checkout',
    capability: ['order:checkout', 'order:manage:any'],
    params: OrderParams,
    idempotent: 'optional',
    body: Reason,
    responses: {
      202: {
        description: 'Accepted: the order once its compensations have run (or as far as they got in 5 s)',
        schema: OrderActionAcceptedSchema,
      },
      409: { description: 'Too late to cancel' },
    },
    handler: async ({ principal, params, body, deps, audit, newId }) => {
      const order = await loadVisibleOrder(deps.db, principal, params.orderId);
      const staff = can(principal.roles, 'order:manage:any');
      if (!staff && order.buyer_id !== principal.userId) throw notFound('order');
      const after = await sagaAction({ deps, newId }, params.orderId, 'cancel', {
        by: principal.userId,
        role: staff ? 'support' : 'buyer',
        reason: body.reason,
      });
      await audit('order.cancel', { type: 'order', id: params.orderId }, { reason: body.reason });
      return { status: 202, body: { ...after, accepted: true } satisfies z.output<typeof OrderActionAcceptedSchema> };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/orders/:orderId/return',
    summary: 'Return a delivered order inside its return window: refunds and restocks',
    tag: 'checkout',
    capability: 'order:checkout',
    params: OrderParams,
    idempotent: 'optional',
    body: Reason,
    responses: {
      202: {
        description: 'Accepted: the order once refunded and restocked (or as far as it got in 5 s)',
        schema: OrderActionAcceptedSchema,
      },
      409: { description: 'Not delivered, or the window has closed' },
    },
    handler: async ({ principal, params, body, deps, newId }) => {
      const order = await loadVisibleOrder(deps.db, principal, params.orderId);
      if (order.buyer_id !== principal.userId) throw notFound('order');
      const after = await sagaAction({ deps, newId }, params.orderId, 'return', {
        by: principal.userId,
        role: 'buyer',
        reason: body.reason,
      });
      return { status: 202, body: { ...after, accepted: true } satisfies z.output<typeof OrderActionAcceptedSchema> };
    },
  });

  for (const [action, sagaActionName, summary] of [
    ['dispatch', 'dispatch', 'The seller dispatched the order (the buyer can no longer cancel)'],
    ['delivered', 'deliver', 'The order was delivered (starts the return window)'],
  ] as const) {
    api.route({
      method: 'post',
      path: `/v1/orders/:orderId/${action}`,
      summary,
      tag: 'checkout',
      capability: ['seller:manage', 'order:manage:any'],
      params: OrderParams,
      idempotent: 'optional',
      responses: {
        202: { description: 'Accepted: the order with the action recorded (or as it is after 5 s)', schema: OrderActionAcceptedSchema },
        409: { description: 'Not allowed in the current state' },
      },
      handler: async ({ principal, params, deps, audit, newId }) => {
        const order = await loadVisibleOrder(deps.db, principal, params.orderId);
        const staff = can(principal.roles, 'order:manage:any');
        if (!staff && order.seller_id !== principal.userId) throw notFound('order');
        const after = await sagaAction({ deps, newId }, params.orderId, sagaActionName, {
          by: principal.userId,
          role: staff ? 'support' : 'seller',
        });
        await audit(`order.${action}`, { type: 'order', id: params.orderId });
        return { status: 202, body: { ...after, accepted: true } satisfies z.output<typeof OrderActionAcceptedSchema> };
      },
    });
  }

  api.route({
    method: 'post',
    path: '/v1/orders/:orderId/refund',
    summary: 'Support: refund an order (in full before settlement; in full or in part after, clawed back per policy)',
    tag: 'checkout',
    capability: 'order:manage:any',
    params: OrderParams,
    body: RefundBody,
    idempotent: true,
    rateLimit: 'money',
    responses: {
      202: {
        description: 'Accepted: before settlement the order as the saga refunded it, after settlement the refund flow started',
        schema: OrderRefundSchema,
      },
      409: { description: 'Nothing left to refund' },
      422: { description: 'Bad amount' },
    },
    handler: async ({ principal, params, body, deps, audit, newId }) => {
      const order = await loadVisibleOrder(deps.db, principal, params.orderId);
      if (order.status !== 'completed') {
        if (isTerminal(order.status)) throw new ApiError(409, 'order_closed', `The order is ${order.status}; there is nothing to refund`);
        if (body.amount !== undefined && body.amount !== order.total) {
          throw new ApiError(422, 'partial_refund_before_settlement', 'Before settlement an order is refunded in full; omit amount');
        }
        const view = await sagaAction({ deps, newId }, params.orderId, 'refund', {
          by: principal.userId,
          role: 'support',
          reason: body.reason,
        });
        await audit('order.refund', { type: 'order', id: params.orderId }, { reason: body.reason, phase: 'before_settlement' });
        return { status: 202, body: { ...view, phase: 'before_settlement', amount: order.total } satisfies OrderRefund };
      }
      const refundable = order.total - order.refunded;
      const amount = body.amount ?? refundable;
      if (refundable <= 0) throw new ApiError(409, 'fully_refunded', 'The order has been refunded in full');
      if (amount > refundable)
        throw new ApiError(422, 'refund_too_large', `At most ${refundable} paise can still be refunded`, { refundable });
      const refundId = newId('rf_', 24);
      await insertOrderRefund(deps.db, {
        id: refundId,
        orderId: params.orderId,
        amount,
        reason: body.reason,
        requestedBy: principal.userId,
      });
      await startFlow(deps, orderRefundWorkflow, {
        workflowId: orderRefundWorkflowId(refundId),
        args: [{ refundId, orderId: params.orderId, amount } satisfies OrderRefundInput],
        typedSearchAttributes: [
          { key: OrderId, value: params.orderId },
          { key: CustomerId, value: order.buyer_id },
          { key: SellerId, value: order.seller_id },
          { key: FlowStatus, value: 'refunding' },
        ],
      });
      await audit(
        'order.refund',
        { type: 'order', id: params.orderId },
        { reason: body.reason, phase: 'after_settlement', amount, refundId },
      );
      return {
        status: 202,
        body: {
          orderId: params.orderId,
          phase: 'after_settlement',
          refundId,
          amount,
          workflowId: orderRefundWorkflowId(refundId),
        } satisfies OrderRefund,
      };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/orders/:orderId/retry',
    summary: 'Support: retry the step an order is stuck on',
    tag: 'checkout',
    capability: 'order:manage:any',
    params: OrderParams,
    idempotent: 'optional',
    body: Reason,
    responses: {
      202: { description: 'Retrying: the order once it has moved on (or as it is after 5 s)', schema: OrderActionAcceptedSchema },
      409: { description: 'Nothing is stuck' },
    },
    handler: async ({ principal, params, body, deps, audit, newId }) => {
      await loadVisibleOrder(deps.db, principal, params.orderId);
      const after = await sagaAction({ deps, newId }, params.orderId, 'retry', {
        by: principal.userId,
        role: 'support',
        reason: body.reason,
      });
      await audit('order.retry_step', { type: 'order', id: params.orderId }, { reason: body.reason });
      return { status: 202, body: { ...after, accepted: true } satisfies z.output<typeof OrderActionAcceptedSchema> };
    },
  });
}
