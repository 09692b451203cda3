/** What the checkout and order routes answer with (api/routes/checkout.ts), as documented in the OpenAPI. */
import { z } from 'zod';
import { checkoutWorkflowId } from '../../contracts/checkout';
import { ORDER_STATUSES } from '../../domain/checkout/status';
import type { OrderRow } from '../../db/orders';

const FUNDING_SOURCES = ['wallet', 'provider'] as const;
const ORDER_ID = 'ord_3f2a9c1b7e4d5a6b8c9d0e1f';

const lineExample = { productId: 'milk-1l', quantity: 2, unitPrice: 6_800, amount: 13_600 };

export const OrderLineSchema = z
  .object({
    productId: z.string(),
    quantity: z.number().int(),
    unitPrice: z.number().int().describe('paise, as priced from the catalog at checkout'),
    amount: z.number().int().describe('quantity × unitPrice, paise'),
  })
  .meta({ id: 'OrderLine', example: lineExample });

const eventExample = { type: 'placed', actor: 'usr_asha', details: {}, at: '2027-01-05T08:30:00.000Z' };

export const OrderEventSchema = z
  .object({
    type: z
      .string()
      .describe('the step, e.g. `placed`, `validated`, `stock_reserved`, `charged`, `confirmed`, `dispatched`, `delivered`, `settled`'),
    actor: z.string().describe('who caused it: a user id, `seller`, or `system`'),
    details: z.record(z.string(), z.unknown()).describe('open: what the step recorded (amounts, ids); `{}` when nothing'),
    at: z.string().describe('ISO instant'),
  })
  .meta({ id: 'OrderEvent', example: eventExample });

export const OrderSettlementSchema = z
  .object({
    sellerNet: z.number().int().describe('paise paid to the seller'),
    commission: z.number().int().describe('paise the platform kept, before the referral'),
    referral: z.number().int().describe('paise paid to the referrer, out of the commission'),
  })
  .meta({ id: 'OrderSettlement' });

const orderExample = {
  orderId: ORDER_ID,
  workflowId: `checkout-${ORDER_ID}`,
  buyerId: 'usr_asha',
  sellerId: 'dairy-fresh',
  status: 'delivered' as const,
  total: 13_600,
  refunded: 0,
  fundingSource: 'wallet' as const,
  settlement: null,
  failureCode: null,
  failureMessage: null,
  deliveredAt: '2027-01-06T07:10:00.000Z',
  returnWindowEndsAt: '2027-01-13T07:10:00.000Z',
  settlesAt: '2027-01-13T07:10:00.000Z',
  lines: [lineExample],
  timeline: [eventExample],
  createdAt: '2027-01-05T08:30:00.000Z',
};

/** The order as the database shows it: every route that answers with an order (but the 201 of checkout). */
export const OrderSchema = z
  .object({
    orderId: z.string(),
    workflowId: z.string().describe('the checkout saga, for support in the Temporal UI'),
    buyerId: z.string(),
    sellerId: z.string(),
    status: z.enum(ORDER_STATUSES),
    total: z.number().int().describe('paise'),
    refunded: z.number().int().describe('paise refunded so far'),
    fundingSource: z.enum(FUNDING_SOURCES).nullable().describe('what paid the escrow; null until the charge step has run'),
    settlement: OrderSettlementSchema.nullable().describe('null until the order has settled'),
    failureCode: z.string().nullable(),
    failureMessage: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    returnWindowEndsAt: z.string().nullable(),
    settlesAt: z
      .string()
      .nullable()
      .describe('when it settled, or will once the return window closes; null for an order that will not settle (or is stuck)'),
    lines: z.array(OrderLineSchema),
    timeline: z.array(OrderEventSchema).describe('oldest first'),
    createdAt: z.string(),
  })
  .meta({ id: 'Order', example: orderExample });

export type OrderView = z.output<typeof OrderSchema>;

export const OrderListSchema = z
  .object({ orders: z.array(OrderSchema).describe('newest first') })
  .meta({ id: 'OrderList', example: { orders: [orderExample] } });

const sagaExample = {
  orderId: ORDER_ID,
  status: 'delivered' as const,
  step: 'deliver',
  stuckStep: null,
  stuckReason: null,
  stuckError: null,
  fundingSource: 'wallet' as const,
  paymentId: null,
  confirmed: true,
  dispatched: true,
  delivered: true,
  compensationsRegistered: ['close_order', 'release_stock', 'refund'],
  compensationsRun: [],
  abort: null,
  failureCode: null,
  failureMessage: null,
};

/** The saga's `state` query (contracts/checkout.ts CheckoutState), shown to staff. */
export const CheckoutSagaStateSchema = z
  .object({
    orderId: z.string(),
    status: z.enum(ORDER_STATUSES),
    step: z.string().nullable().describe('the step running (or stuck) now'),
    stuckStep: z.string().nullable(),
    stuckReason: z.string().nullable(),
    stuckError: z.string().nullable().describe('the same as stuckReason (its older name)'),
    fundingSource: z.enum(FUNDING_SOURCES).nullable(),
    paymentId: z.string().nullable().describe('the provider payment, when the payment method was charged'),
    confirmed: z.boolean(),
    dispatched: z.boolean(),
    delivered: z.boolean(),
    compensationsRegistered: z.array(z.string()),
    compensationsRun: z.array(z.string()),
    abort: z
      .object({ kind: z.enum(['cancel', 'return', 'refund']), code: z.string(), by: z.string() })
      .nullable()
      .describe('the cancel, return or refund the saga is compensating for'),
    failureCode: z.string().nullable(),
    failureMessage: z.string().nullable(),
  })
  .meta({ id: 'CheckoutSagaState', example: sagaExample });

export const OrderDetailSchema = OrderSchema.extend({
  saga: CheckoutSagaStateSchema.nullable()
    .optional()
    .describe('staff only (`order:read:any`): the saga as it is now; null when its history is gone or no worker answered'),
}).meta({ id: 'OrderDetail', example: { ...orderExample, saga: sagaExample } });

/** The hot path of `?wait=true`: what checkout knows at confirmation, without a database read. */
export const ConfirmedOrderSchema = OrderSchema.pick({
  orderId: true,
  workflowId: true,
  buyerId: true,
  sellerId: true,
  total: true,
  fundingSource: true,
  deliveredAt: true,
  returnWindowEndsAt: true,
  settlesAt: true,
  lines: true,
})
  .extend({
    status: z.literal('confirmed'),
    refunded: z.literal(0),
    deliveredAt: z.null(),
    returnWindowEndsAt: z.null(),
    settlesAt: z.null(),
  })
  .meta({
    id: 'ConfirmedOrder',
    description: 'The order at confirmation; GET /v1/orders/{orderId} adds the settlement, failure, timeline and createdAt.',
    example: {
      orderId: ORDER_ID,
      workflowId: `checkout-${ORDER_ID}`,
      buyerId: 'usr_asha',
      sellerId: 'dairy-fresh',
      status: 'confirmed',
      total: 13_600,
      refunded: 0,
      fundingSource: 'wallet',
      deliveredAt: null,
      returnWindowEndsAt: null,
      settlesAt: null,
      lines: [lineExample],
    },
  });

export const OrderActionAcceptedSchema = OrderSchema.extend({ accepted: z.literal(true) }).meta({
  id: 'OrderActionAccepted',
  description: 'The saga took the action; the order as it is once the action shows in its status (or after 5 s).',
  example: { ...orderExample, status: 'cancelled', accepted: true },
});

const RefundBeforeSettlementSchema = OrderSchema.extend({
  phase: z.literal('before_settlement'),
  amount: z.number().int().describe('paise: the whole order'),
}).meta({ id: 'RefundBeforeSettlement', description: 'The saga refunds the escrow in full; the order as it is after.' });

const RefundAfterSettlementSchema = z
  .object({
    orderId: z.string(),
    phase: z.literal('after_settlement'),
    refundId: z.string(),
    amount: z.number().int().describe('paise'),
    workflowId: z.string().describe('the refund flow; follow the order for its result'),
  })
  .meta({ id: 'RefundAfterSettlement', description: 'A refund flow was started: the seller’s share is clawed back per policy.' });

export const OrderRefundSchema = z.discriminatedUnion('phase', [RefundBeforeSettlementSchema, RefundAfterSettlementSchema]).meta({
  id: 'OrderRefund',
  example: {
    orderId: ORDER_ID,
    phase: 'after_settlement',
    refundId: 'rf_0c1d2e3f4a5b6c7d8e9f0a1b',
    amount: 6_800,
    workflowId: 'refund-rf_0c1d2e3f4a5b6c7d8e9f0a1b',
  },
});

export type OrderRefund = z.output<typeof OrderRefundSchema>;

/**
 * The return window opens when the delivery is recorded and lasts the order's `return_window_ms`;
 * the saga settles when it closes. So both instants are known from delivery on: `settlesAt` is the
 * settlement itself once it happened, the window's end while the order waits for it, and null for
 * an order that will not settle (cancelled, returned, refunded, or stuck until support acts).
 */
function orderTimes(order: OrderRow, events: OrderRow[]) {
  const at = (type: string) => events.find((e) => e.type === type)?.created_at as Date | undefined;
  const delivered = at('delivered');
  const settled = at('settled');
  const windowEnds = delivered ? new Date(new Date(delivered).getTime() + Number(order.return_window_ms)) : null;
  const settles = settled ? new Date(settled) : ['delivered', 'settling'].includes(order.status) ? windowEnds : null;
  return {
    deliveredAt: delivered ? new Date(delivered).toISOString() : null,
    returnWindowEndsAt: windowEnds?.toISOString() ?? null,
    settlesAt: settles?.toISOString() ?? null,
  };
}

/** The order's row with its lines and timeline rows, as answered. */
export function orderBody(order: OrderRow, lines: OrderRow[], events: OrderRow[]): OrderView {
  return {
    orderId: order.id,
    workflowId: checkoutWorkflowId(order.id),
    buyerId: order.buyer_id,
    sellerId: order.seller_id,
    status: order.status,
    total: order.total,
    refunded: order.refunded,
    fundingSource: order.funding_source,
    settlement: order.seller_net === null ? null : { sellerNet: order.seller_net, commission: order.commission, referral: order.referral },
    failureCode: order.failure_code,
    failureMessage: order.failure_message,
    ...orderTimes(order, events),
    lines: lines.map((l) => ({ productId: l.product_id, quantity: l.quantity, unitPrice: l.unit_price, amount: l.amount })),
    timeline: events.map((e) => ({ type: e.type, actor: e.actor, details: e.details, at: new Date(e.created_at).toISOString() })),
    createdAt: new Date(order.created_at).toISOString(),
  };
}
