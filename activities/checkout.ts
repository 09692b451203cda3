import { ApplicationFailure } from '@temporalio/activity';
import { accounts } from '../domain/ledger/accounts';
import { transfer, type LedgerLine } from '../domain/ledger/journal';
import { refundClawback, settlementSplit, type OrderStatus } from '../domain/checkout';
import { checkoutWorkflowId } from '../domain/flow-ids';
import { postJournal } from '../db/ledger';
import { getBalance } from '../db/ledger-reports';
import { InsufficientFundsError } from '../db/errors';
import type { Queryable, Tx } from '../db/knex';
import type { ProviderPayment } from '../infra/payment-provider';
import type { ActivityDeps } from './deps';
import { businessFailures } from './failures';

/** Journal keys of the checkout flow: flow + step, so every ledger write is applied at most once. */
export const checkoutKeys = {
  charge: (orderId: string) => `checkout-${orderId}:charge`,
  providerCharge: (orderId: string) => `checkout-${orderId}:provider-charge`,
  refund: (orderId: string) => `checkout-${orderId}:refund`,
  settle: (orderId: string) => `checkout-${orderId}:settle`,
  refundAfterSettlement: (refundId: string) => `order-refund-${refundId}`,
};

export async function recordEvent(
  q: Queryable,
  orderId: string,
  key: string,
  type: string,
  details: Record<string, unknown> = {},
  actor = 'system',
): Promise<void> {
  await q.raw(
    `INSERT INTO order_events (order_id, key, type, actor, details) VALUES (?, ?, ?, ?, ?::jsonb) ON CONFLICT (order_id, key) DO NOTHING`,
    [orderId, key, type, actor, JSON.stringify(details)],
  );
}

const CLOSED = ['completed', 'cancelled', 'returned', 'refunded'];

/**
 * Moves the order's status forward, never back: a closed order stays closed, and a compensating one
 * only closes. So a late step (a retry that outlived its worker) can never reopen a cancelled order.
 */
async function setStatus(q: Queryable, orderId: string, status: OrderStatus, extra: Record<string, unknown> = {}): Promise<void> {
  const terminal = CLOSED.includes(status);
  await q('orders')
    .where({ id: orderId })
    .whereNotIn('status', CLOSED)
    .modify((b) => {
      if (!terminal) b.whereNot('status', 'compensating');
    })
    .update({ status, ...extra, updated_at: q.fn.now() });
}

/** The status change and its timeline entry in ONE statement (atomic, one round trip). */
async function statusWithEvent(
  q: Queryable,
  orderId: string,
  status: OrderStatus,
  event: { key: string; type: string; details?: Record<string, unknown>; actor?: string },
  extra: { failure_code?: string | null; failure_message?: string | null } = {},
): Promise<void> {
  const terminal = CLOSED.includes(status);
  const setFailure = 'failure_code' in extra;
  await q.raw(
    `WITH u AS (
       UPDATE orders SET status = ?, updated_at = now(),
         failure_code = CASE WHEN ? THEN ? ELSE failure_code END,
         failure_message = CASE WHEN ? THEN ? ELSE failure_message END
       WHERE id = ? AND status <> ALL(?::text[]) AND (? OR status <> 'compensating')
       RETURNING id
     )
     INSERT INTO order_events (order_id, key, type, actor, details) VALUES (?, ?, ?, ?, ?::jsonb) ON CONFLICT (order_id, key) DO NOTHING`,
    [
      status,
      setFailure,
      extra.failure_code ?? null,
      setFailure,
      extra.failure_message ?? null,
      orderId,
      CLOSED,
      terminal,
      orderId,
      event.key,
      event.type,
      event.actor ?? 'system',
      JSON.stringify(event.details ?? {}),
    ],
  );
}

/** Steps that move stock or money refuse once the saga has started compensating (checked under the row lock). */
async function assertOpen(q: Queryable, orderId: string): Promise<void> {
  const row = await q('orders').where({ id: orderId }).forUpdate().first('status');
  if (!row) throw nonRetryable('OrderNotFound', `order ${orderId} not found`);
  if (row.status === 'compensating' || CLOSED.includes(row.status)) {
    throw nonRetryable('OrderClosed', `order ${orderId} is ${row.status}`);
  }
}

/**
 * The order's one charge journal into its escrow, whether the money came from the wallet or the
 * provider (same key either way, so an order is never charged twice); refused once the order closed.
 */
async function postOrderCharge(
  trx: Queryable,
  orderId: string,
  from: string,
  amount: number,
  meta: { actor?: string; metadata: Record<string, unknown> },
) {
  const done = await trx('journal')
    .where({ idempotency_key: checkoutKeys.charge(orderId) })
    .first('id');
  if (!done) await assertOpen(trx, orderId);
  await postJournal(trx, {
    idempotencyKey: checkoutKeys.charge(orderId),
    reason: 'order_charge',
    refType: 'order',
    refId: orderId,
    ...meta,
    lines: transfer(from, accounts.orderEscrow(orderId), amount),
  });
}

function nonRetryable(type: string, message: string, details?: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type, details ?? {});
}

async function loadOrder(q: Queryable, orderId: string, lock = false) {
  const b = q('orders').where({ id: orderId });
  const order = await (lock ? b.forUpdate() : b).first();
  if (!order) throw nonRetryable('OrderNotFound', `order ${orderId} not found`);
  return order;
}

export function createCheckoutActivities({ db, payments }: ActivityDeps) {
  return {
    /** Step 1: the lines still match the catalog (products for sale, same seller, same price). */
    async validateOrder(req: { orderId: string }): Promise<void> {
      const { rows: lines } = await db.raw(
        `SELECT l.product_id, l.unit_price, p.price, p.active, p.seller_id, o.seller_id AS order_seller
         FROM orders o JOIN order_lines l ON l.order_id = o.id JOIN products p ON p.id = l.product_id WHERE o.id = ?`,
        [req.orderId],
      );
      if (lines.length === 0) throw nonRetryable('CartInvalid', 'the order has no lines', { code: 'empty_cart' });
      for (const l of lines) {
        if (!l.active) throw nonRetryable('CartInvalid', `product ${l.product_id} is no longer for sale`, { code: 'product_inactive' });
        if (l.seller_id !== l.order_seller)
          throw nonRetryable('CartInvalid', `product ${l.product_id} is another seller's`, { code: 'mixed_sellers' });
        if (l.price !== l.unit_price) {
          throw nonRetryable('CartInvalid', `the price of ${l.product_id} changed to ${l.price}`, { code: 'price_changed' });
        }
      }
      await statusWithEvent(db, req.orderId, 'validating', { key: 'validated', type: 'validated' });
    },

    /**
     * Step 2: takes the stock with one conditional UPDATE per line (`stock >= q`), in product order so
     * two orders never deadlock; all lines or none. Repeating it for a reserved order changes nothing.
     */
    async reserveStock(req: { orderId: string }): Promise<{ reserved: boolean }> {
      return db.transaction(async (trx) => {
        await assertOpen(trx, req.orderId).catch(async (err) => {
          // Already reserved (a retry) is success even if the order has moved on since.
          if (await trx('reservations').where({ order_id: req.orderId }).first()) return;
          throw err;
        });
        const existing = await trx('reservations').where({ order_id: req.orderId }).first();
        if (existing) return { reserved: true };
        const lines = await trx('order_lines').where({ order_id: req.orderId }).orderBy('product_id').select('product_id', 'quantity');
        for (const line of lines) {
          const updated = await trx.raw(
            `UPDATE products SET stock = stock - ?, updated_at = now() WHERE id = ? AND stock >= ? RETURNING stock`,
            [line.quantity, line.product_id, line.quantity],
          );
          if (updated.rows.length === 0) {
            // Throwing rolls back the lines already taken in this transaction.
            throw nonRetryable('OutOfStock', `not enough stock of ${line.product_id}`, { productId: line.product_id });
          }
        }
        await trx('reservations').insert(
          lines.map((l: { product_id: string; quantity: number }) => ({
            order_id: req.orderId,
            product_id: l.product_id,
            quantity: l.quantity,
            status: 'held',
          })),
        );
        await statusWithEvent(trx, req.orderId, 'reserving', {
          key: 'stock_reserved',
          type: 'stock_reserved',
          details: { lines: lines.length },
        });
        return { reserved: true };
      });
    },

    /**
     * Compensation of step 2: gives the held stock back (or, for a return, the delivered stock).
     * Only rows that change status restock, so repeating it — or running it when nothing was
     * reserved — does nothing.
     */
    async releaseReservation(req: { orderId: string; returned: boolean }): Promise<{ released: number }> {
      return db.transaction(async (trx) => {
        const { rows } = await trx.raw(
          `UPDATE reservations SET status = CASE WHEN status = 'held' THEN 'released' ELSE 'returned' END, updated_at = now()
           WHERE order_id = ? AND (status = 'held' OR (? AND status = 'consumed'))
           RETURNING product_id, quantity`,
          [req.orderId, req.returned],
        );
        for (const r of [...rows].sort((a: { product_id: string }, b: { product_id: string }) => (a.product_id < b.product_id ? -1 : 1))) {
          await trx.raw(`UPDATE products SET stock = stock + ?, updated_at = now() WHERE id = ?`, [r.quantity, r.product_id]);
        }
        if (rows.length > 0) {
          await recordEvent(trx, req.orderId, 'stock_released', req.returned ? 'stock_returned' : 'stock_released', { lines: rows.length });
        }
        return { released: rows.length };
      });
    },

    /**
     * Step 3a: the buyer's wallet pays into the order's escrow. An overdraft is an answer, not an
     * error: the workflow then charges the payment method instead.
     */
    async chargeWallet(req: { orderId: string; buyerId: string; amount: number }): Promise<{ charged: boolean }> {
      try {
        await db.transaction(async (trx) => {
          await postOrderCharge(trx, req.orderId, accounts.userWallet(req.buyerId), req.amount, {
            actor: `user:${req.buyerId}`,
            metadata: { source: 'wallet' },
          });
          await trx.raw(
            `WITH u AS (UPDATE orders SET status = 'charging', funding_source = 'wallet', updated_at = now()
                        WHERE id = ? AND status NOT IN ('compensating', 'completed', 'cancelled', 'returned', 'refunded') RETURNING id)
             INSERT INTO order_events (order_id, key, type, details) VALUES (?, 'charged', 'charged', ?::jsonb) ON CONFLICT (order_id, key) DO NOTHING`,
            [req.orderId, req.orderId, JSON.stringify({ source: 'wallet', amount: req.amount })],
          );
        });
        return { charged: true };
      } catch (err) {
        if (err instanceof InsufficientFundsError) return { charged: false };
        throw err;
      }
    },

    /** Step 3b: one provider charge per order (the key is the order's), so retries never charge twice. */
    async chargeProvider(req: { orderId: string; amount: number; paymentMethod: string }): Promise<ProviderPayment> {
      const payment = await businessFailures(() =>
        payments.createPayment({
          idempotencyKey: checkoutKeys.providerCharge(req.orderId),
          amount: req.amount,
          paymentMethod: req.paymentMethod,
          metadata: { workflowId: checkoutWorkflowId(req.orderId), orderId: req.orderId },
        }),
      );
      await db.transaction(async (trx) => {
        await setStatus(trx, req.orderId, 'charging', { provider_payment_id: payment.id, funding_source: 'provider' });
        await recordEvent(trx, req.orderId, 'provider_charge', 'provider_charge_created', { paymentId: payment.id });
      });
      return payment;
    },

    async getProviderPayment(paymentId: string): Promise<ProviderPayment> {
      return payments.getPayment(paymentId);
    },

    /** Step 3c: the confirmed provider payment lands in escrow (same journal key as a wallet charge). */
    async creditEscrowFromProvider(req: { orderId: string; amount: number; paymentId: string }): Promise<void> {
      await db.transaction(async (trx) => {
        await postOrderCharge(trx, req.orderId, accounts.externalPsp, req.amount, {
          metadata: { source: 'provider', paymentId: req.paymentId },
        });
        await recordEvent(trx, req.orderId, 'charged', 'charged', { source: 'provider', amount: req.amount, paymentId: req.paymentId });
      });
    },

    /**
     * Compensation of step 3: whatever is in the order's escrow goes back where it came from (the
     * wallet, or the card through the provider's refund). Ledger first, then the provider refund, both
     * keyed by the order, so a retry finishes the job and a repeat moves nothing.
     */
    async refundEscrow(req: {
      orderId: string;
      buyerId: string;
      reason: string;
      paymentId?: string | null;
    }): Promise<{ refunded: number }> {
      const order = await loadOrder(db, req.orderId);
      const key = checkoutKeys.refund(req.orderId);
      let journal = await db('journal').where({ idempotency_key: key }).first('id');
      let amount = 0;
      const charged = await db('journal')
        .where({ idempotency_key: checkoutKeys.charge(req.orderId) })
        .first('id');
      if (!journal && !charged && req.paymentId) {
        // The card was charged but the money never reached escrow (the step was abandoned while
        // stuck): the ledger never took it in, so only the provider refund is owed.
        const payment = await payments.getPayment(req.paymentId);
        if (payment.status === 'succeeded') {
          await payments.refundPayment({ idempotencyKey: key, paymentId: req.paymentId, amount: payment.amount });
          await recordEvent(db, req.orderId, 'provider_charge_voided', 'provider_charge_voided', {
            paymentId: req.paymentId,
            amount: payment.amount,
          });
        }
        return { refunded: 0 };
      }
      if (!journal) {
        await db.transaction(async (trx) => {
          const escrow = accounts.orderEscrow(req.orderId);
          const locked = await trx.raw(`SELECT coalesce(sum(balance), 0)::bigint AS balance FROM account_balances WHERE account_id = ?`, [
            escrow,
          ]);
          const balance: number = locked.rows[0]?.balance ?? 0;
          if (balance <= 0) return;
          const to = order.funding_source === 'provider' ? accounts.externalPsp : accounts.userWallet(req.buyerId);
          const posted = await postJournal(trx, {
            idempotencyKey: key,
            reason: 'order_refund',
            refType: 'order',
            refId: req.orderId,
            metadata: { reason: req.reason, to: order.funding_source },
            lines: transfer(escrow, to, balance),
          });
          if (posted.applied) {
            await trx.raw(`UPDATE orders SET refunded = refunded + ?, updated_at = now() WHERE id = ?`, [balance, req.orderId]);
            await recordEvent(trx, req.orderId, 'refunded', 'refunded', { amount: balance, to: order.funding_source, reason: req.reason });
          }
        });
        journal = await db('journal').where({ idempotency_key: key }).first('id');
      }
      if (journal) {
        const line = await db('journal_lines').where({ journal_id: journal.id }).where('amount', '>', 0).first('amount');
        amount = line?.amount ?? 0;
        if (order.funding_source === 'provider' && order.provider_payment_id) {
          await payments.refundPayment({ idempotencyKey: key, paymentId: order.provider_payment_id, amount });
        }
      }
      return { refunded: amount };
    },

    /** Generic status change + timeline entry (stuck, compensating, dispatched…). */
    async recordOrderStatus(req: {
      orderId: string;
      status: OrderStatus;
      eventKey: string;
      event: string;
      details?: Record<string, unknown>;
      actor?: string;
      failureCode?: string | null;
      failureMessage?: string | null;
    }): Promise<void> {
      const extra: { failure_code?: string | null; failure_message?: string | null } = {};
      if (req.failureCode !== undefined) {
        extra.failure_code = req.failureCode;
        extra.failure_message = req.failureMessage ?? null;
      }
      await statusWithEvent(
        db,
        req.orderId,
        req.status,
        { key: req.eventKey, type: req.event, details: req.details, actor: req.actor },
        extra,
      );
    },

    /** Delivery: the reserved stock is now the buyer's (a return gives it back). */
    async recordDelivered(req: { orderId: string; actor: string }): Promise<void> {
      await db.transaction(async (trx) => {
        await trx('reservations').where({ order_id: req.orderId, status: 'held' }).update({ status: 'consumed', updated_at: trx.fn.now() });
        await setStatus(trx, req.orderId, 'delivered');
        await recordEvent(trx, req.orderId, 'delivered', 'delivered', {}, req.actor);
      });
    },

    /**
     * The last step: the escrow is split in ONE journal into the seller's payable, platform revenue
     * and the referrer's wallet (see domain/checkout/split.ts for the rounding). Idempotent on the key.
     */
    async settleOrder(req: { orderId: string }): Promise<{ sellerNet: number; platform: number; referral: number }> {
      return db.transaction(async (trx: Tx) => {
        const order = await loadOrder(trx, req.orderId, true);
        const split = settlementSplit(order.total, order.commission_bps, order.referrer_id ? order.referral_bps : 0);
        const key = checkoutKeys.settle(req.orderId);
        const already = await trx('journal').where({ idempotency_key: key }).first('id');
        if (!already) {
          await assertOpen(trx, req.orderId);
          const escrow = accounts.orderEscrow(req.orderId);
          const bal = await getBalance(trx, escrow);
          if (bal.balance !== order.total) {
            throw nonRetryable('EscrowMismatch', `escrow holds ${bal.balance}, the order totals ${order.total}`);
          }
          const lines: LedgerLine[] = [
            { account: escrow, amount: -order.total },
            { account: accounts.sellerPayable(order.seller_id), amount: split.sellerNet },
            { account: accounts.platformRevenue, amount: split.platform },
          ];
          if (order.referrer_id) lines.push({ account: accounts.userWallet(order.referrer_id), amount: split.referral });
          await postJournal(trx, {
            idempotencyKey: key,
            reason: 'order_settlement',
            refType: 'order',
            refId: req.orderId,
            metadata: { ...split, commissionBps: order.commission_bps, referralBps: order.referral_bps, referrerId: order.referrer_id },
            lines: lines.filter((l) => l.amount !== 0),
          });
        }
        await setStatus(trx, req.orderId, 'completed', {
          commission: split.grossCommission,
          referral: split.referral,
          seller_net: split.sellerNet,
        });
        await recordEvent(trx, req.orderId, 'settled', 'settled', {
          sellerNet: split.sellerNet,
          commission: split.platform,
          referral: split.referral,
        });
        return { sellerNet: split.sellerNet, platform: split.platform, referral: split.referral };
      });
    },

    /**
     * A refund after settlement: claws back per the policy in domain/checkout/split.ts (seller payable
     * may go negative; commission reversed; referral absorbed by the platform). Ledger first (under the
     * order's row lock, so concurrent refunds can't exceed the total), then the provider refund.
     */
    async refundAfterSettlement(req: { refundId: string; orderId: string; amount: number }): Promise<{ refunded: number }> {
      const key = checkoutKeys.refundAfterSettlement(req.refundId);
      const order = await db.transaction(async (trx) => {
        const o = await loadOrder(trx, req.orderId, true);
        const done = await trx('journal').where({ idempotency_key: key }).first('id');
        if (done) return o;
        if (o.status !== 'completed') throw nonRetryable('NotSettled', `order ${req.orderId} is ${o.status}, not settled`);
        const split = settlementSplit(o.total, o.commission_bps, o.referrer_id ? o.referral_bps : 0);
        let claw;
        try {
          claw = refundClawback(split, o.commission_bps, o.refunded, req.amount);
        } catch (err) {
          return { rejected: (err as Error).message };
        }
        const to = o.funding_source === 'provider' ? accounts.externalPsp : accounts.userWallet(o.buyer_id);
        const lines: LedgerLine[] = [
          { account: accounts.sellerPayable(o.seller_id), amount: -claw.fromSeller },
          { account: accounts.platformRevenue, amount: -claw.fromRevenue },
          { account: accounts.platformReferralExpense, amount: -claw.fromReferralExpense },
          { account: to, amount: claw.amount },
        ];
        await postJournal(trx, {
          idempotencyKey: key,
          reason: 'order_refund',
          refType: 'order',
          refId: req.orderId,
          metadata: { ...claw, refundId: req.refundId, afterSettlement: true },
          lines: lines.filter((l) => l.amount !== 0),
        });
        await trx.raw(`UPDATE orders SET refunded = refunded + ?, updated_at = now() WHERE id = ?`, [req.amount, req.orderId]);
        await trx('order_refunds').where({ id: req.refundId }).update({ status: 'succeeded', updated_at: trx.fn.now() });
        await recordEvent(trx, req.orderId, `refund:${req.refundId}`, 'refunded_after_settlement', { ...claw, refundId: req.refundId });
        return o;
      });
      if ('rejected' in order) {
        await db('order_refunds')
          .where({ id: req.refundId })
          .update({ status: 'rejected', failure_message: order.rejected, updated_at: db.fn.now() });
        throw nonRetryable('RefundTooLarge', order.rejected);
      }
      if (order.funding_source === 'provider' && order.provider_payment_id) {
        await payments.refundPayment({ idempotencyKey: key, paymentId: order.provider_payment_id, amount: req.amount });
      }
      return { refunded: req.amount };
    },
  };
}

export type CheckoutActivities = ReturnType<typeof createCheckoutActivities>;
