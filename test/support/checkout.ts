import { createHash, randomUUID } from 'node:crypto';
import { accounts } from '../../domain/ledger/accounts';
import { transfer } from '../../domain/ledger/journal';
import { postJournal } from '../../db/ledger';
import { getBalance } from '../../db/ledger-reports';
import type { Db } from '../../db/knex';
import { isTerminal, type CheckoutInput } from '../../contracts/checkout';
import { uniqueId } from './temporal';

/** Fixtures and money checks for the checkout → settlement → payout tests. */
export async function seedSeller(db: Db, opts: { commissionBps?: number; bank?: string } = {}): Promise<string> {
  const id = uniqueId('s_');
  await db('sellers').insert({
    id,
    name: `Seller ${id}`,
    commission_bps: opts.commissionBps ?? 1000,
    bank_account_ref: opts.bank ?? 'ok:HDFC0001',
  });
  return id;
}

export async function seedProduct(db: Db, sellerId: string, price: number, stock: number): Promise<string> {
  const id = uniqueId('p_');
  await db('products').insert({ id, seller_id: sellerId, name: `Product ${id}`, price, stock });
  return id;
}

export async function fundWallet(db: Db, userId: string, amount: number): Promise<void> {
  await postJournal(db, {
    idempotencyKey: `test-fund-${randomUUID()}`,
    reason: 'topup',
    lines: transfer(accounts.externalPsp, accounts.userWallet(userId), amount),
  });
}

export const balanceOf = async (db: Db, account: string) => (await getBalance(db, account)).balance;

export interface PlaceOrder {
  buyerId: string;
  sellerId: string;
  lines: Array<{ productId: string; quantity: number; unitPrice?: number }>;
  paymentMethod?: string | null;
  deliveryDeadlineMs?: number;
  returnWindowMs?: number;
}

/** Writes an order the way the API does (for tests that start the saga directly with short timers). */
export async function placeOrder(db: Db, o: PlaceOrder): Promise<CheckoutInput> {
  const orderId = `ord_${createHash('sha256').update(randomUUID()).digest('hex').slice(0, 24)}`;
  const products = await db('products').whereIn(
    'id',
    o.lines.map((l) => l.productId),
  );
  const price = (id: string) => products.find((p: { id: string }) => p.id === id).price as number;
  const lines = o.lines.map((l, i) => {
    const unit = l.unitPrice ?? price(l.productId);
    return {
      order_id: orderId,
      line_no: i + 1,
      product_id: l.productId,
      quantity: l.quantity,
      unit_price: unit,
      amount: unit * l.quantity,
    };
  });
  const total = lines.reduce((s, l) => s + l.amount, 0);
  const seller = await db('sellers').where({ id: o.sellerId }).first();
  const referral = await db('referrals').where({ buyer_id: o.buyerId }).first();
  const input: CheckoutInput = {
    orderId,
    buyerId: o.buyerId,
    sellerId: o.sellerId,
    total,
    paymentMethod: o.paymentMethod ?? null,
    deliveryDeadlineMs: o.deliveryDeadlineMs ?? 60_000,
    returnWindowMs: o.returnWindowMs ?? 300,
    paymentPollMs: 50,
  };
  await db('orders').insert({
    id: orderId,
    buyer_id: o.buyerId,
    seller_id: o.sellerId,
    status: 'pending',
    total,
    payment_method: input.paymentMethod,
    commission_bps: seller.commission_bps,
    referrer_id: referral?.referrer_id ?? null,
    referral_bps: referral?.rate_bps ?? 0,
    delivery_deadline_ms: input.deliveryDeadlineMs,
    return_window_ms: input.returnWindowMs,
  });
  await db('order_lines').insert(lines);
  return input;
}

export interface OrderMoney {
  paid: number;
  sellerCredited: number;
  commission: number;
  referral: number;
  refunds: number;
  escrow: number;
  chargeJournals: number;
}

/** Every movement the ledger recorded for one order, grouped the way the money check needs. */
export async function orderMoney(db: Db, orderId: string): Promise<OrderMoney> {
  const order = await db('orders').where({ id: orderId }).first();
  const rows: Array<{ reason: string; account_id: string; amount: number; journal_id: number }> = await db('journal as j')
    .join('journal_lines as l', 'l.journal_id', 'j.id')
    .where({ 'j.ref_type': 'order', 'j.ref_id': orderId })
    .select('j.reason', 'l.account_id', 'l.amount', 'j.id as journal_id');
  const escrow = accounts.orderEscrow(orderId);
  const sum = (f: (r: (typeof rows)[number]) => boolean) => rows.filter(f).reduce((s, r) => s + r.amount, 0);
  return {
    paid: sum((r) => r.reason === 'order_charge' && r.account_id === escrow),
    sellerCredited: sum((r) => r.account_id === accounts.sellerPayable(order.seller_id)),
    commission: sum((r) => r.account_id.startsWith('platform:')),
    referral: order.referrer_id
      ? sum((r) => r.reason === 'order_settlement' && r.account_id === accounts.userWallet(order.referrer_id))
      : 0,
    refunds: sum(
      (r) =>
        r.reason === 'order_refund' &&
        r.amount > 0 &&
        (r.account_id === accounts.userWallet(order.buyer_id) || r.account_id === accounts.externalPsp),
    ),
    escrow: await balanceOf(db, escrow),
    chargeJournals: new Set(rows.filter((r) => r.reason === 'order_charge').map((r) => r.journal_id)).size,
  };
}

/** What the card really paid for an order, net of refunds, in the sandbox provider's books. */
async function providerNet(db: Db, paymentId: string): Promise<number> {
  const payment = await db('fake_provider.payments').where({ id: paymentId }).first('amount');
  const refunds = await db('fake_provider.refunds').where({ payment_id: paymentId }).sum({ total: 'amount' });
  return Number(payment.amount) - Number(refunds[0].total ?? 0);
}

/**
 * The per-order money check every scenario ends with: in a terminal state the escrow is empty, the
 * buyer was charged at most once, and buyer paid = seller credited + commission + referral + refunds;
 * for a card-paid order in a terminal state, the provider's books agree with the ledger on what
 * the card paid net of refunds.
 */
export async function expectOrdersBalanced(db: Db, orderIds?: string[]): Promise<void> {
  const ids: string[] = orderIds ?? (await db('orders').pluck('id'));
  for (const id of ids) {
    const order = await db('orders').where({ id }).first('status', 'funding_source', 'provider_payment_id');
    const m = await orderMoney(db, id);
    const label = `order ${id} (${order.status})`;
    expect({ label, chargeJournals: m.chargeJournals <= 1 }).toEqual({ label, chargeJournals: true });
    if (isTerminal(order.status)) expect({ label, escrow: m.escrow }).toEqual({ label, escrow: 0 });
    expect({ label, paid: m.paid }).toEqual({ label, paid: m.sellerCredited + m.commission + m.referral + m.refunds + m.escrow });
    if (isTerminal(order.status) && order.funding_source === 'provider' && order.provider_payment_id) {
      expect({ label, cardNet: await providerNet(db, order.provider_payment_id) }).toEqual({ label, cardNet: m.paid - m.refunds });
    }
  }
}
