import { randomUUID } from 'node:crypto';
import { signToken } from '../../api/auth';
import { loadConfig } from '../../app/config';
import type { Role } from '../../domain/capabilities';
import { postJournals } from '../../db/ledger';
import type { Db } from '../../db/knex';
import { accounts } from '../../domain/ledger/accounts';
import { transfer } from '../../domain/ledger/journal';
import { addDays } from '../../domain/schedule/local-date';
import { localDateOf } from '../../domain/schedule/timezone';
import type { RoundRobinClient } from './soak-client';

/**
 * The flows the soak drives through the API while it breaks things, and what each one's inputs
 * call for. Each started flow is recorded with its expectation; soak-checks.ts holds the
 * database to it at the end.
 */
const SECRET = loadConfig({}).JWT_SECRET;
export const tokenFor = (userId: string, roles: Role[] = ['customer']) => signToken(SECRET, { userId, roles });

export const TOPUP_AMOUNT = 10_000;
/** The sandbox payment methods (infra/fake-payment-provider.ts) and how a top-up with each ends. */
export const TOPUP_BEHAVIOURS = {
  pm_ok: 'succeeded',
  pm_flaky_2: 'succeeded',
  pm_timeout: 'succeeded',
  pm_declined: 'declined',
  pm_insufficient_funds: 'declined',
} as const;

export const CHECKOUT_FUNDS = 10_000;
export const PRODUCT_PRICE = 2_000;
export type CheckoutPath = 'complete' | 'return' | 'cancel';
export const CHECKOUT_END: Record<CheckoutPath, string> = { complete: 'completed', return: 'returned', cancel: 'cancelled' };

export const SUBSCRIBER_FUNDS = 500_000;
/** Banks of the sandbox payout provider (infra/fake-payout-provider.ts): each of these ends paid. */
export const SELLER_BANKS = ['ok:HDFC0001', 'flaky:ICIC0002', 'pending-then-ok:SBIN0003'];

export interface Started {
  topups: Array<{ userId: string; topupId: string; method: keyof typeof TOPUP_BEHAVIOURS }>;
  checkouts: Array<{ buyerId: string; orderId: string; path: CheckoutPath; sellerId: string }>;
  subscriptions: Array<{ userId: string; subscriptionId: string; cancelled: boolean; pricePerPeriod: number; resumeFrom: string }>;
  payouts: Array<{ sellerId: string; payoutId: string }>;
  marketOrders: Array<{ marketId: string; userId: string; clientOrderId: string }>;
  /** `sold`: a bid was accepted, so the lot must sell (a lot no bid reached ends unsold). */
  auctions: Array<{ lotId: string; sellerId: string; bidders: string[]; sold: boolean }>;
  markets: string[];
  /** Flows whose start or a step failed at the API in a way no retry fixed (counted as lost). */
  failures: string[];
  /**
   * Requests whose Idempotency-Key stayed "in progress" for good because the API instance that
   * claimed it was killed before it stored the answer: the client never learns the outcome. The
   * soak then finds the flow by its user (one user per flow) and still holds it to its end state.
   */
  /** Returns the saga refused because the window had closed by the time the retried request arrived. */
  lateReturns: number;
}

export interface Shop {
  sellers: string[];
  products: Map<string, string>;
  milkProductId: string;
}

const uid = (prefix: string) => `${prefix}${randomUUID().replace(/-/g, '').slice(0, 16)}`;

async function fund(db: Db, userIds: string[], amount: number): Promise<void> {
  await db.transaction((trx) =>
    postJournals(
      trx,
      userIds.map((userId) => ({
        idempotencyKey: `soak-fund-${userId}`,
        reason: 'topup',
        lines: transfer(accounts.externalPsp, accounts.userWallet(userId), amount),
      })),
    ),
  );
}

/** Sellers (one per sandbox bank behaviour), a product each with deep stock, and a subscribable milk. */
export async function seedShop(db: Db): Promise<Shop> {
  const sellers = SELLER_BANKS.map(() => uid('soak-s-'));
  const products = new Map<string, string>();
  for (const [i, id] of sellers.entries()) {
    await db('sellers').insert({ id, name: `Soak seller ${i}`, commission_bps: 1000, bank_account_ref: SELLER_BANKS[i] });
    const productId = uid('soak-p-');
    await db('products').insert({ id: productId, seller_id: id, name: `Soak product ${i}`, price: PRODUCT_PRICE, stock: 1_000_000 });
    products.set(id, productId);
  }
  const milkProductId = uid('soak-milk-');
  await db('products').insert({
    id: milkProductId,
    seller_id: sellers[0],
    name: 'Toned milk 500 ml',
    price: 3_000,
    stock: 1_000_000,
    subscribable: true,
    unit: '500 ml',
  });
  return { sellers, products, milkProductId };
}

const pick = <T>(xs: readonly T[], n: number) => xs[n % xs.length];

export async function topupFlow(db: Db, rr: RoundRobinClient, started: Started, n: number): Promise<void> {
  const userId = uid('soak-tu-');
  const method = pick(Object.keys(TOPUP_BEHAVIOURS), n) as keyof typeof TOPUP_BEHAVIOURS;
  const res = await rr.post('/v1/wallet/topups', tokenFor(userId), { amount: TOPUP_AMOUNT, paymentMethod: method });
  if (res.status !== 202) throw new Error(`topup ${method}: ${res.status} ${JSON.stringify(res.body)}`);
  started.topups.push({ userId, topupId: res.body.topupId, method });
}

/** Posts a saga action; a 409 after a retried request is fine when the order already shows it. */
async function orderAction(rr: RoundRobinClient, orderId: string, action: string, token: string, body: unknown, done: string[]) {
  const res = await rr.request('POST', `/v1/orders/${orderId}/${action}`, { token, body });
  if (res.status === 202) return;
  const order = await rr.get(`/v1/orders/${orderId}`, token);
  if (!done.includes(order.body?.status))
    throw new Error(`${action} ${orderId}: ${res.status} ${JSON.stringify(res.body)} (order ${order.body?.status})`);
}

/** Waits until the order's saga has it confirmed (an auction's order is charged by its saga after the sale). */
async function untilConfirmed(rr: RoundRobinClient, orderId: string, token: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const order = await rr.get(`/v1/orders/${orderId}`, token);
    if (order.body?.status === 'confirmed') return;
    if (order.status === 200 && !['pending', 'validating', 'reserving', 'charging'].includes(order.body.status))
      throw new Error(`order ${orderId} is ${order.body.status}, not confirmed`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`order ${orderId} not confirmed within 30 s`);
}

export async function checkoutFlow(db: Db, rr: RoundRobinClient, shop: Shop, started: Started, n: number): Promise<void> {
  const buyerId = uid('soak-b-');
  await fund(db, [buyerId], CHECKOUT_FUNDS);
  const sellerId = pick(shop.sellers, n);
  const path = pick(['complete', 'complete', 'return', 'cancel'] as const, n);
  const buyer = tokenFor(buyerId);
  const seller = tokenFor(sellerId, ['seller']);
  const res = await rr.request('POST', '/v1/checkout?wait=true', {
    token: buyer,
    idempotencyKey: randomUUID(),
    body: { lines: [{ productId: shop.products.get(sellerId)!, quantity: 1, unitPrice: PRODUCT_PRICE }] },
  });
  if (res.status !== 201 && res.status !== 202) throw new Error(`checkout: ${res.status} ${JSON.stringify(res.body)}`);
  const orderId: string = res.body.orderId;
  const entry: Started['checkouts'][number] = { buyerId, orderId, path, sellerId };
  started.checkouts.push(entry);
  // Wait for the confirmation when the answer came before it (202).
  for (let i = 0; i < 100; i++) {
    const order = await rr.get(`/v1/orders/${orderId}`, buyer);
    if (order.body?.status === 'confirmed') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (path === 'cancel') return orderAction(rr, orderId, 'cancel', buyer, { reason: 'changed my mind' }, ['cancelled', 'compensating']);
  await orderAction(rr, orderId, 'dispatch', seller, undefined, ['dispatched', 'delivered']);
  await orderAction(rr, orderId, 'delivered', seller, undefined, ['delivered', 'settling', 'completed', 'returned', 'compensating']);
  if (path !== 'return') return;
  const returned = await rr.request('POST', `/v1/orders/${orderId}/return`, { token: buyer, body: { reason: 'wrong size' } });
  if (returned.status === 202) return;
  // A return that reached the saga after the window closed (its requests were retried through a
  // fault for longer than the window) is refused by the saga's own rule: the order settles instead.
  const order = await rr.get(`/v1/orders/${orderId}`, buyer);
  const status = order.body?.status;
  if (returned.body?.error?.code === 'action_rejected' && ['settling', 'completed'].includes(status)) {
    entry.path = 'complete';
    started.lateReturns++;
  } else if (!['returned', 'compensating'].includes(status)) {
    throw new Error(`return ${orderId}: ${returned.status} ${JSON.stringify(returned.body)} (order ${status})`);
  }
}

const kolkataDay = (n: number) => addDays(localDateOf(Date.now(), 'Asia/Kolkata'), n);

export async function subscriptionFlow(db: Db, rr: RoundRobinClient, shop: Shop, started: Started, n: number): Promise<void> {
  const userId = uid('soak-sub-');
  await fund(db, [userId], SUBSCRIBER_FUNDS);
  const token = tokenFor(userId);
  const res = await rr.post('/v1/subscriptions', token, {
    productId: shop.milkProductId,
    quantity: 1,
    recurrence: { kind: 'daily' },
    startDate: kolkataDay(3),
    region: 'blr',
    paymentMethod: 'pm_ok',
  });
  if (res.status !== 201) throw new Error(`subscribe: ${res.status} ${JSON.stringify(res.body)}`);
  const subscriptionId: string = res.body.subscriptionId;
  const pricePerPeriod = Number((await db('subscriptions').where({ id: subscriptionId }).first('price_per_period')).price_per_period);
  const cancelled = n % 3 === 2;
  const resumeFrom = kolkataDay(7);
  started.subscriptions.push({ userId, subscriptionId, cancelled, pricePerPeriod, resumeFrom });
  // Each change with its own Idempotency-Key, kept across retries: a retry after a lost answer is answered once.
  const on = (action: string, body: unknown) => rr.post(`/v1/subscriptions/${subscriptionId}/${action}`, token, body);
  const pause = await on('pause', { from: kolkataDay(5), to: kolkataDay(9), reason: 'vacation' });
  if (pause.status !== 200) throw new Error(`pause: ${pause.status} ${JSON.stringify(pause.body)}`);
  const resume = await on('resume', { from: resumeFrom });
  if (resume.status !== 200) throw new Error(`resume: ${resume.status} ${JSON.stringify(resume.body)}`);
  if (cancelled) {
    const cancel = await on('cancel', {});
    if (cancel.status !== 200) throw new Error(`cancel: ${cancel.status} ${JSON.stringify(cancel.body)}`);
  }
}

/** Pays a seller's payable out if there is one and no payout is under way. */
export async function payoutRound(rr: RoundRobinClient, sellerId: string, started: Started): Promise<void> {
  const token = tokenFor(sellerId, ['seller']);
  const res = await rr.post(`/v1/sellers/${sellerId}/payouts`, token);
  if (res.status === 202) started.payouts.push({ sellerId, payoutId: res.body.payoutId });
  else if (res.status !== 409 && res.status !== 422) throw new Error(`payout: ${res.status} ${JSON.stringify(res.body)}`);
}

export const ADMIN = tokenFor('soak-admin', ['admin']);

export async function createMarket(rr: RoundRobinClient, closesAt: number): Promise<string> {
  const res = await rr.post('/v1/markets', ADMIN, {
    question: 'Will the soak lose a flow?',
    opensAt: new Date(Date.now() + 1000).toISOString(),
    closesAt: new Date(closesAt).toISOString(),
    feeBps: 0,
    disputeWindowSeconds: 0,
    resolutionDeadlineSeconds: 3600,
  });
  if (res.status !== 201) throw new Error(`create market: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.marketId;
}

export async function fundTraders(db: Db, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => uid('soak-t-'));
  await fund(db, ids, 10_000_000);
  return ids;
}

/** A burst of crossing orders: YES at p against NO at 1000 − p, from two different traders. */
export async function marketBurst(rr: RoundRobinClient, marketId: string, traders: string[], started: Started, n: number): Promise<void> {
  const price = 300 + 50 * (n % 9);
  await Promise.all(
    [0, 1, 2, 3].map(async (k) => {
      const userId = pick(traders, n * 4 + k);
      const side = k % 2 === 0 ? 'YES' : 'NO';
      const clientOrderId = uid('c');
      const res = await rr.request('POST', `/v1/markets/${marketId}/orders`, {
        token: tokenFor(userId),
        body: { clientOrderId, side, action: 'BUY', price: side === 'YES' ? price : 1000 - price, quantity: 1 + (n % 3) },
      });
      // A burst whose retries outlasted the close (an instance restarting) meets a closed market.
      if (res.status === 409 && ['market_closed', 'market_not_open'].includes(res.body?.error?.code)) return;
      if (res.status !== 202 && res.status !== 200 && res.status !== 201)
        throw new Error(`order: ${res.status} ${JSON.stringify(res.body)}`);
      started.marketOrders.push({ marketId, userId, clientOrderId });
    }),
  );
}

/** Close (if the clock has not), resolve YES; retried requests are the same action again. */
export async function settleMarket(rr: RoundRobinClient, marketId: string): Promise<void> {
  for (const [action, body] of [
    ['close', {}],
    ['resolve', { outcome: 'YES', source: 'the soak decided' }],
  ] as const) {
    const res = await rr.post(`/v1/markets/${marketId}/${action}`, ADMIN, body);
    if (res.status >= 300 && !(res.status === 409 && action === 'close'))
      throw new Error(`${action} ${marketId}: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

export const BIDDER_FUNDS = 100_000;

/**
 * A lot on its own schedule: three funded bidders outbid each other (one with a proxy maximum)
 * until it closes; the winner's hold becomes a checkout order that the seller dispatches and
 * delivers, and settles after the return window. A bid refused as too low is part of the game.
 */
export async function auctionFlow(db: Db, rr: RoundRobinClient, shop: Shop, started: Started, n: number): Promise<void> {
  const sellerId = pick(shop.sellers, n);
  const seller = tokenFor(sellerId, ['seller']);
  const bidders = Array.from({ length: 3 }, () => uid('soak-bid-'));
  await fund(db, bidders, BIDDER_FUNDS);
  const res = await rr.post('/v1/auctions', seller, {
    sellerId,
    productId: shop.products.get(sellerId)!,
    startsAt: new Date(Date.now() + 500).toISOString(),
    startingPrice: 5_000,
    durationSeconds: 6,
    softCloseSeconds: 2,
  });
  if (res.status !== 201) throw new Error(`lot: ${res.status} ${JSON.stringify(res.body)}`);
  const lotId: string = res.body.lotId;
  const entry = { lotId, sellerId, bidders, sold: false };
  started.auctions.push(entry);
  for (let round = 0, waits = 0; round < 6 && waits < 50;) {
    const bidder = bidders[round % 3];
    const lot = await rr.get(`/v1/auctions/${lotId}`, tokenFor(bidder));
    if (lot.body?.status === 'scheduled') {
      waits++;
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    if (lot.body?.status !== 'open') break;
    round++;
    const amount = lot.body.nextMinimum;
    const body = round === 1 ? { amount, maxAmount: amount + 3_000, clientBidId: uid('b') } : { amount, clientBidId: uid('b') };
    const bid = await rr.request('POST', `/v1/auctions/${lotId}/bids`, { token: tokenFor(bidder), body });
    if (bid.status < 300) entry.sold = true;
    else if (bid.status !== 409 && bid.status !== 422) throw new Error(`bid: ${bid.status} ${JSON.stringify(bid.body)}`);
  }
  // The close is the lot workflow's: wait for the sale, then take the order to delivery.
  let orderId: string | null = null;
  for (let i = 0; i < 150 && !orderId; i++) {
    const lot = await db('auction_lots').where({ id: lotId }).first('status', 'order_id');
    if (lot?.status === 'sold' && lot.order_id) orderId = lot.order_id;
    else if (lot?.status === 'unsold')
      return; // soak-checks.ts says whether it should have
    else await new Promise((r) => setTimeout(r, 200));
  }
  if (!orderId) throw new Error(`lot ${lotId} not sold within 30 s`);
  await untilConfirmed(rr, orderId, seller);
  await orderAction(rr, orderId, 'dispatch', seller, undefined, ['dispatched', 'delivered']);
  await orderAction(rr, orderId, 'delivered', seller, undefined, ['delivered', 'settling', 'completed']);
}
