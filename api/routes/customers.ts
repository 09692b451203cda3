/**
 * Support's customer 360: one read with everything the console's Customer page shows. The next
 * deliveries are computed now from the subscription and its exceptions (the same rules as the
 * workflow and nightly generation), so a pause made a moment ago shows at once.
 */
import { z } from 'zod';
import { subscriptionWorkflowId } from '../../contracts/subscription';
import { checkoutWorkflowId } from '../../contracts/checkout';
import { customer360, userIdForPhone, type Customer360 } from '../../db/customer-360';
import { scheduleOfRow } from '../../db/subscriptions';
import { DEFAULT_CUTOFF, isValidLocalDate, nextDeliveries } from '../../domain/schedule';
import { earliestChangeableDate } from '../../domain/subscription';
import { ApiError } from '../errors';
import type { ApiRouter } from '../router';
import { CustomerOverviewSchema } from '../views/customers';
import { mobileNumber } from './auth';

const NEXT_DELIVERIES = 4;

const CustomerQuery = z
  .strictObject({
    phone: z.string().min(4).max(32).optional().describe('the number the customer holds now (E.164, or national for the default country)'),
    userId: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,128}$/)
      .optional(),
    balanceOn: z
      .string()
      .refine(isValidLocalDate, 'a date YYYY-MM-DD')
      .optional()
      .describe('also answer the wallet balance at the end of this date'),
  })
  .refine((q) => (q.phone === undefined) !== (q.userId === undefined), { message: 'give phone or userId, one of them', path: ['phone'] });

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

function overviewBody(c: Customer360, nowMs: number): z.output<typeof CustomerOverviewSchema> {
  return {
    userId: c.userId,
    user: c.user
      ? {
          phone: c.user.phone,
          displayName: c.user.display_name,
          createdAt: iso(c.user.created_at)!,
          lastLoginAt: iso(c.user.last_login_at),
          deletionRequestedAt: iso(c.user.deletion_requested_at),
          erasedAt: iso(c.user.erased_at),
        }
      : null,
    roles: c.roles,
    wallet: {
      balance: c.wallet.balance,
      held: c.wallet.held,
      available: c.wallet.available,
      balanceOn: c.wallet.balanceOn,
      entries: c.wallet.entries,
    },
    subscriptions: c.subscriptions.map(({ row, exceptions }) => ({
      subscriptionId: row.id,
      workflowId: subscriptionWorkflowId(row.id),
      productId: row.product_id,
      quantity: row.quantity,
      status: row.status,
      billingState: row.billing_state,
      billingReason: row.billing_reason,
      pricePerPeriod: Number(row.price_per_period),
      paymentMethod: row.payment_method,
      timezone: row.timezone,
      startDate: row.start_date,
      endDate: row.end_date,
      nextRenewalDate: row.next_renewal_date,
      nextDeliveries: nextDeliveries(
        scheduleOfRow(row),
        exceptions,
        earliestChangeableDate(nowMs, row.timezone, DEFAULT_CUTOFF),
        NEXT_DELIVERIES,
      ).map((d) => ({ date: d.date, deliver: d.deliver, quantity: d.quantity, reason: d.reason, explanation: d.explanation })),
      exceptions: exceptions as unknown as Record<string, unknown>[],
    })),
    orders: c.orders.map(({ row, events }) => ({
      orderId: row.id,
      workflowId: checkoutWorkflowId(row.id),
      sellerId: row.seller_id,
      status: row.status,
      total: Number(row.total),
      refunded: Number(row.refunded),
      createdAt: iso(row.created_at)!,
      timeline: events.map((e) => ({ type: e.type, actor: e.actor, at: iso(e.created_at)!, details: e.details ?? {} })),
    })),
    positions: c.positions.map((p) => ({
      marketId: p.marketId,
      question: p.question,
      status: p.status,
      cost: p.netCost,
      value: p.value,
      pnl: p.pnl,
      positions: p.positions as unknown as Record<string, unknown>[],
    })),
    auctions: {
      bids: c.bids.map((b) => ({
        lotId: b.lot_id,
        title: b.lot?.title ?? b.lot_id,
        amount: Number(b.amount),
        kind: b.kind,
        placedAt: iso(b.placed_at)!,
        lotStatus: b.lot?.status ?? 'unknown',
      })),
      wins: c.wins.map((l) => ({
        lotId: l.id,
        title: l.title,
        price: l.sold_price === null ? null : Number(l.sold_price),
        closedAt: iso(l.closed_at),
      })),
    },
    audit: c.audit.map((a) => ({
      actor: a.actor,
      roles: a.roles,
      action: a.action,
      targetType: a.targetType,
      targetId: a.targetId,
      details: a.details,
      at: a.createdAt.toISOString(),
    })),
  };
}

export function registerCustomerRoutes(api: ApiRouter): void {
  api.route({
    method: 'get',
    path: '/v1/ops/customers',
    summary:
      'Support: a customer’s whole story by phone or user id — wallet and ledger, subscriptions with their next deliveries and exceptions, orders with timelines, market positions and P&L, auction bids and wins, staff actions',
    tag: 'ops',
    capability: ['wallet:read:any', 'order:read:any'],
    query: CustomerQuery,
    responses: {
      200: { description: 'The customer 360', schema: CustomerOverviewSchema },
      404: { description: 'No user holds that phone number' },
    },
    handler: async ({ query, deps, audit }) => {
      let userId = query.userId;
      if (query.phone !== undefined) {
        userId = await userIdForPhone(deps.db, mobileNumber(deps, query.phone));
        if (!userId) throw new ApiError(404, 'not_found', 'No user holds that phone number');
      }
      const overview = await customer360(deps.db, userId!, { balanceOn: query.balanceOn });
      // Looking at someone's data is itself something support did.
      await audit('customer.view', { type: 'user', id: userId! });
      return { status: 200, body: overviewBody(overview, Date.now()) };
    },
  });
}
