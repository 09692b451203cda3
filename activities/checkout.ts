/**
 * The checkout saga's steps and compensations, and the refund after settlement. Every one is safe to
 * run twice (keyed journals, status changes that only move forward, stock moves recorded once); all
 * table access goes through db/orders.ts. A business "no" is a rejection (domain/rejection.ts), on
 * which the saga compensates at once; anything else is retried or parks the order as stuck.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { accounts } from '../domain/ledger/accounts';
import { transfer, type LedgerLine } from '../domain/ledger/journal';
import { refundClawback, settlementSplit, TERMINAL_ORDER_STATUSES, type OrderStatus } from '../domain/checkout';
import { rejection } from '../domain/rejection';
import { checkoutKeys, checkoutWorkflowId } from '../contracts/checkout';
import { postJournal } from '../db/ledger';
import { getBalance } from '../db/ledger-reports';
import { InsufficientFundsError } from '../db/errors';
import type { Queryable, Tx } from '../db/knex';
import {
  accountBalance,
  addRefunded,
  consumeReservation,
  findOrder,
  hasReservation,
  journalCreditAmount,
  journalIdByKey,
  linesWithProducts,
  lockOrderStatus,
  markOrderRefund,
  orderForPlacement,
  recordOrderEvent,
  releaseReservedStock,
  reserveGivenLines,
  reserveLines,
  writeOrderStatus,
  writeOrderSteps,
  type OrderEvent,
  type OrderRow,
} from '../db/orders';
import type { PaymentProvider, ProviderPayment } from '../infra/payment-provider';
import type { ActivityDeps } from './deps';
import { businessFailures } from './failures';

const orderNotFound = (orderId: string) => rejection('not_found', 'order_not_found', `order ${orderId} not found`, { orderId });

/** Steps that move stock or money refuse once the saga has started compensating (checked under the row lock). */
async function assertOpen(q: Queryable, orderId: string): Promise<void> {
  const status = await lockOrderStatus(q, orderId);
  if (status === null) throw orderNotFound(orderId);
  if (status === 'compensating' || TERMINAL_ORDER_STATUSES.includes(status as OrderStatus)) {
    throw rejection('conflict', 'order_closed', `order ${orderId} is ${status}`, { orderId, status });
  }
}

async function loadOrder(q: Queryable, orderId: string, lock = false): Promise<OrderRow> {
  const order = await findOrder(q, orderId, { lock });
  if (!order) throw orderNotFound(orderId);
  return order;
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
  if ((await journalIdByKey(trx, checkoutKeys.charge(orderId))) === null) await assertOpen(trx, orderId);
  await postJournal(trx, {
    idempotencyKey: checkoutKeys.charge(orderId),
    reason: 'order_charge',
    refType: 'order',
    refId: orderId,
    ...meta,
    lines: transfer(from, accounts.orderEscrow(orderId), amount),
  });
}

type LineCheck = { product_id: string; unit_price: number; price: number; active: boolean; seller_id: string; order_seller: string };

/** Why the lines no longer match the catalog (products for sale, same seller, same price), as a rejection. */
function checkLines(lines: LineCheck[]): void {
  if (lines.length === 0) throw rejection('invalid', 'empty_cart', 'the order has no lines');
  for (const l of lines) {
    const product = { productId: l.product_id };
    if (!l.active) throw rejection('conflict', 'product_inactive', `product ${l.product_id} is no longer for sale`, product);
    if (l.seller_id !== l.order_seller) throw rejection('invalid', 'mixed_sellers', `product ${l.product_id} is another seller's`, product);
    if (l.price !== l.unit_price)
      throw rejection('conflict', 'price_changed', `the price of ${l.product_id} changed to ${l.price}`, product);
  }
}

/** Step 1: the lines still match the catalog (products for sale, same seller, same price). */
async function validateOrder(db: Queryable, req: { orderId: string }): Promise<void> {
  checkLines(await linesWithProducts(db, req.orderId));
  await writeOrderStatus(db, req.orderId, 'validating', { event: { key: 'validated', type: 'validated' } });
}

/** Why the one-transaction placement handed over to the steps one by one. */
class PlaceStepByStep extends Error {}

/**
 * Steps 1–3a and the confirmation (validate, reserve, charge the wallet, confirm) in ONE
 * transaction, for a fresh order (status `pending`, under its row lock: nothing reserved or
 * charged yet) that the wallet can pay: the same rows as the four steps one after another, in a
 * handful of statements and one commit. Anything else — the stock or the wallet short, an order
 * that has moved on (a retry of this activity after its commit, a compensation) — rolls it back
 * and runs the same steps one by one with their own transactions, so a refused order's records
 * say how far it got exactly as before. `charged: false`: the wallet was short (the order is
 * validated and reserved; the provider must pay, then the saga confirms).
 */
async function placeOrder(
  db: ActivityDeps['db'],
  steps: { reserveStock(req: { orderId: string }): Promise<unknown>; chargeWallet(req: ChargeRequest): Promise<{ charged: boolean }> },
  req: ChargeRequest,
): Promise<{ charged: boolean }> {
  try {
    await db.transaction(async (trx) => {
      const order = await orderForPlacement(trx, req.orderId);
      if (order === null) throw orderNotFound(req.orderId);
      if (order.status !== 'pending') throw new PlaceStepByStep();
      checkLines(order.lines);
      if ((await reserveGivenLines(trx, req.orderId, order.lines)) !== null) throw new PlaceStepByStep();
      await postJournal(trx, {
        idempotencyKey: checkoutKeys.charge(req.orderId),
        reason: 'order_charge',
        refType: 'order',
        refId: req.orderId,
        actor: `user:${req.buyerId}`,
        metadata: { source: 'wallet' },
        lines: transfer(accounts.userWallet(req.buyerId), accounts.orderEscrow(req.orderId), req.amount),
      });
      await writeOrderSteps(trx, req.orderId, 'confirmed', { funding_source: 'wallet' }, [
        { key: 'validated', type: 'validated' },
        { key: 'stock_reserved', type: 'stock_reserved', details: { lines: order.lines.length } },
        { key: 'charged', type: 'charged', details: { source: 'wallet', amount: req.amount } },
        { key: 'confirmed', type: 'confirmed' },
      ]);
    });
    return { charged: true };
  } catch (err) {
    // A refused line is refused the same way step by step, before anything is written.
    if (!(err instanceof PlaceStepByStep) && !(err instanceof InsufficientFundsError)) throw err;
  }
  await validateOrder(db, req);
  await steps.reserveStock(req);
  const { charged } = await steps.chargeWallet(req);
  if (charged) await writeOrderStatus(db, req.orderId, 'confirmed', { event: { key: 'confirmed', type: 'confirmed' } });
  return { charged };
}

type ChargeRequest = { orderId: string; buyerId: string; amount: number };

function stockActivities(db: ActivityDeps['db']) {
  return {
    /**
     * Step 2: takes the stock of every line (see db/orders.ts#reserveLines); all lines or none.
     * Repeating it for a reserved order changes nothing.
     */
    async reserveStock(req: { orderId: string }): Promise<{ reserved: boolean }> {
      return db.transaction(async (trx) => {
        await assertOpen(trx, req.orderId).catch(async (err) => {
          // Already reserved (a retry) is success even if the order has moved on since.
          if (await hasReservation(trx, req.orderId)) return;
          throw err;
        });
        if (await hasReservation(trx, req.orderId)) return { reserved: true };
        const { short, lines } = await reserveLines(trx, req.orderId);
        // Throwing rolls back the lines already taken in this transaction.
        if (short !== null) throw rejection('conflict', 'out_of_stock', `not enough stock of ${short}`, { productId: short });
        await writeOrderStatus(trx, req.orderId, 'reserving', {
          event: { key: 'stock_reserved', type: 'stock_reserved', details: { lines } },
        });
        return { reserved: true };
      });
    },

    /** Compensation of step 2: gives the held stock back (or, for a return, the delivered stock); a no-op when nothing is held. */
    async releaseReservation(req: { orderId: string; returned: boolean }): Promise<{ released: number }> {
      return db.transaction(async (trx) => {
        const released = await releaseReservedStock(trx, req.orderId, req.returned);
        if (released > 0) {
          const type = req.returned ? 'stock_returned' : 'stock_released';
          await recordOrderEvent(trx, req.orderId, { key: 'stock_released', type, details: { lines: released } });
        }
        return { released };
      });
    },

    /** Delivery: the reserved stock is now the buyer's (a return gives it back). */
    async recordDelivered(req: { orderId: string; actor: string }): Promise<void> {
      await db.transaction(async (trx) => {
        await consumeReservation(trx, req.orderId);
        await writeOrderStatus(trx, req.orderId, 'delivered');
        await recordOrderEvent(trx, req.orderId, { key: 'delivered', type: 'delivered', actor: req.actor });
      });
    },
  };
}

function chargeActivities(db: ActivityDeps['db'], payments: PaymentProvider) {
  return {
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
          await writeOrderStatus(trx, req.orderId, 'charging', {
            set: { funding_source: 'wallet' },
            event: { key: 'charged', type: 'charged', details: { source: 'wallet', amount: req.amount } },
          });
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
        await writeOrderStatus(trx, req.orderId, 'charging', { set: { provider_payment_id: payment.id, funding_source: 'provider' } });
        await recordOrderEvent(trx, req.orderId, {
          key: 'provider_charge',
          type: 'provider_charge_created',
          details: { paymentId: payment.id },
        });
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
        const details = { source: 'provider', amount: req.amount, paymentId: req.paymentId };
        await recordOrderEvent(trx, req.orderId, { key: 'charged', type: 'charged', details });
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
      let journal = await journalIdByKey(db, key);
      const charged = await journalIdByKey(db, checkoutKeys.charge(req.orderId));
      if (journal === null && charged === null && req.paymentId) {
        // The card was charged but the money never reached escrow (the step was abandoned while
        // stuck): the ledger never took it in, so only the provider refund is owed.
        const payment = await payments.getPayment(req.paymentId);
        if (payment.status === 'succeeded') {
          await payments.refundPayment({ idempotencyKey: key, paymentId: req.paymentId, amount: payment.amount });
          const details = { paymentId: req.paymentId, amount: payment.amount };
          await recordOrderEvent(db, req.orderId, { key: 'provider_charge_voided', type: 'provider_charge_voided', details });
        }
        return { refunded: 0 };
      }
      if (journal === null) {
        await db.transaction(async (trx) => {
          const escrow = accounts.orderEscrow(req.orderId);
          const balance = await accountBalance(trx, escrow);
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
            await addRefunded(trx, req.orderId, balance);
            const details = { amount: balance, to: order.funding_source, reason: req.reason };
            await recordOrderEvent(trx, req.orderId, { key: 'refunded', type: 'refunded', details });
          }
        });
        journal = await journalIdByKey(db, key);
      }
      if (journal === null) return { refunded: 0 };
      const amount = await journalCreditAmount(db, journal);
      if (order.funding_source === 'provider' && order.provider_payment_id) {
        await payments.refundPayment({ idempotencyKey: key, paymentId: order.provider_payment_id, amount });
      }
      return { refunded: amount };
    },
  };
}

/**
 * The last step: the escrow is split in ONE journal into the seller's payable, platform revenue
 * and the referrer's wallet (see domain/checkout/split.ts for the rounding). Idempotent on the key.
 */
async function settleOrder(trx: Tx, orderId: string): Promise<{ sellerNet: number; platform: number; referral: number }> {
  const order = await loadOrder(trx, orderId, true);
  const split = settlementSplit(order.total, order.commission_bps, order.referrer_id ? order.referral_bps : 0);
  const key = checkoutKeys.settle(orderId);
  if ((await journalIdByKey(trx, key)) === null) {
    await assertOpen(trx, orderId);
    const escrow = accounts.orderEscrow(orderId);
    const bal = await getBalance(trx, escrow);
    if (bal.balance !== order.total) {
      // Not a business answer: the books disagree with the order, which parks the saga for a human.
      throw ApplicationFailure.nonRetryable(`escrow holds ${bal.balance}, the order totals ${order.total}`, 'EscrowMismatch');
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
      refId: orderId,
      metadata: { ...split, commissionBps: order.commission_bps, referralBps: order.referral_bps, referrerId: order.referrer_id },
      lines: lines.filter((l) => l.amount !== 0),
    });
  }
  await writeOrderStatus(trx, orderId, 'completed', {
    set: { commission: split.grossCommission, referral: split.referral, seller_net: split.sellerNet },
  });
  const details = { sellerNet: split.sellerNet, commission: split.platform, referral: split.referral };
  await recordOrderEvent(trx, orderId, { key: 'settled', type: 'settled', details });
  return { sellerNet: split.sellerNet, platform: split.platform, referral: split.referral };
}

/**
 * The ledger side of a refund after settlement, under the order's row lock (so concurrent refunds
 * can't exceed the total): claws back per domain/checkout/split.ts (the seller's payable may go
 * negative; commission reversed; referral absorbed by the platform). Returns the order, or why the
 * refund is refused.
 */
async function clawBack(trx: Tx, req: { refundId: string; orderId: string; amount: number }): Promise<OrderRow | { rejected: string }> {
  const key = checkoutKeys.refundAfterSettlement(req.refundId);
  const o = await loadOrder(trx, req.orderId, true);
  if ((await journalIdByKey(trx, key)) !== null) return o;
  if (o.status !== 'completed') {
    throw rejection('conflict', 'not_settled', `order ${req.orderId} is ${o.status}, not settled`, {
      orderId: req.orderId,
      status: o.status,
    });
  }
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
  await addRefunded(trx, req.orderId, req.amount);
  await markOrderRefund(trx, req.refundId, { status: 'succeeded' });
  const event: OrderEvent = {
    key: `refund:${req.refundId}`,
    type: 'refunded_after_settlement',
    details: { ...claw, refundId: req.refundId },
  };
  await recordOrderEvent(trx, req.orderId, event);
  return o;
}

export function createCheckoutActivities({ db, payments }: ActivityDeps) {
  const stock = stockActivities(db);
  const charge = chargeActivities(db, payments);
  return {
    validateOrder: (req: { orderId: string }) => validateOrder(db, req),
    /** Steps 1–3a and the confirmation in one transaction when it can (see placeOrder above). */
    placeOrder: (req: ChargeRequest) => placeOrder(db, { reserveStock: stock.reserveStock, chargeWallet: charge.chargeWallet }, req),
    ...stock,
    ...charge,

    /** Generic status change + timeline entry (stuck, compensating, confirmed, dispatched, closed…). */
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
      const set =
        req.failureCode !== undefined ? { failure_code: req.failureCode, failure_message: req.failureMessage ?? null } : undefined;
      await writeOrderStatus(db, req.orderId, req.status, {
        set,
        event: { key: req.eventKey, type: req.event, details: req.details, actor: req.actor },
      });
    },

    async settleOrder(req: { orderId: string }): Promise<{ sellerNet: number; platform: number; referral: number }> {
      return db.transaction((trx: Tx) => settleOrder(trx, req.orderId));
    },

    /** A refund after settlement: the ledger claw-back first (see clawBack), then the provider refund. */
    async refundAfterSettlement(req: { refundId: string; orderId: string; amount: number }): Promise<{ refunded: number }> {
      const order = await db.transaction((trx) => clawBack(trx, req));
      if ('rejected' in order) {
        await markOrderRefund(db, req.refundId, { status: 'rejected', message: order.rejected });
        throw rejection('invalid', 'refund_too_large', order.rejected, { refundId: req.refundId });
      }
      if (order.funding_source === 'provider' && order.provider_payment_id) {
        const key = checkoutKeys.refundAfterSettlement(req.refundId);
        await payments.refundPayment({ idempotencyKey: key, paymentId: order.provider_payment_id, amount: req.amount });
      }
      return { refunded: req.amount };
    },
  };
}

export type CheckoutActivities = ReturnType<typeof createCheckoutActivities>;
