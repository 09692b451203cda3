import type { Db } from '../../db/knex';
import { getBalance, ledgerProblems } from '../../db/ledger-reports';
import { accounts } from '../../domain/ledger/accounts';
import {
  BIDDER_FUNDS,
  CHECKOUT_END,
  CHECKOUT_FUNDS,
  PRODUCT_PRICE,
  SUBSCRIBER_FUNDS,
  TOPUP_AMOUNT,
  TOPUP_BEHAVIOURS,
  type Started,
} from './soak-flows';

/** What the end state says: each problem is a lost flow, a doubled effect, or broken money. */
export interface Verdict {
  lost: string[];
  doubled: string[];
  money: string[];
}

const balance = async (db: Db, account: string) => (await getBalance(db, account)).balance;
const count = async (q: Promise<Array<{ count: string | number }>>) => Number((await q)[0].count);

/**
 * Holds the database to what every started flow's inputs call for: each reached its end state
 * (else lost), no effect applied twice (one top-up, order, charge, payout, pause per intent; no
 * wallet credited or charged twice), the ledger balances, and escrow is empty where the flow is over.
 */
export async function verify(db: Db, started: Started): Promise<Verdict> {
  const v: Verdict = { lost: [...started.failures], doubled: [], money: [] };

  for (const t of started.topups) {
    const rows = await db('topups').where({ user_id: t.userId }).select('id', 'status');
    if (rows.length > 1) v.doubled.push(`topup ${t.userId}: ${rows.length} top-ups for one request`);
    const row = rows.find((r) => r.id === t.topupId);
    if (row?.status !== TOPUP_BEHAVIOURS[t.method]) v.lost.push(`topup ${t.topupId} (${t.method}): ${row?.status ?? 'missing'}`);
    const charges = await count(db('fake_provider.payments').whereLike('idempotency_key', `%${t.topupId}%`).count());
    if (charges > 1) v.doubled.push(`topup ${t.topupId}: ${charges} provider charges`);
    const want = TOPUP_BEHAVIOURS[t.method] === 'succeeded' ? TOPUP_AMOUNT : 0;
    const got = await balance(db, accounts.userWallet(t.userId));
    if (got > want) v.doubled.push(`topup ${t.topupId}: wallet ${got}, want ${want}`);
    else if (got !== want) v.money.push(`topup ${t.topupId}: wallet ${got}, want ${want}`);
  }

  for (const c of started.checkouts) {
    const orders = await db('orders').where({ buyer_id: c.buyerId }).select('id', 'status');
    if (orders.length > 1) v.doubled.push(`checkout ${c.buyerId}: ${orders.length} orders for one request`);
    const order = orders.find((o) => o.id === c.orderId);
    if (order?.status !== CHECKOUT_END[c.path]) v.lost.push(`order ${c.orderId} (${c.path}): ${order?.status ?? 'missing'}`);
    const escrow = await balance(db, accounts.orderEscrow(c.orderId));
    if (escrow !== 0) v.money.push(`order ${c.orderId}: escrow ${escrow} after ${order?.status}`);
    const want = CHECKOUT_FUNDS - (c.path === 'complete' ? PRODUCT_PRICE : 0);
    const got = await balance(db, accounts.userWallet(c.buyerId));
    if (got < want) v.doubled.push(`order ${c.orderId}: buyer wallet ${got}, want ${want}`);
    else if (got !== want) v.money.push(`order ${c.orderId}: buyer wallet ${got}, want ${want}`);
  }

  for (const s of started.subscriptions) {
    const sub = await db('subscriptions').where({ id: s.subscriptionId }).first('status');
    const wantStatus = s.cancelled ? 'cancelled' : 'active';
    if (sub?.status !== wantStatus) v.lost.push(`subscription ${s.subscriptionId}: ${sub?.status ?? 'missing'}, want ${wantStatus}`);
    const first = await db('subscription_renewals').where({ subscription_id: s.subscriptionId, period: 1 }).first('status');
    if (first?.status !== 'paid') v.lost.push(`subscription ${s.subscriptionId}: first renewal ${first?.status ?? 'missing'}`);
    const pauses = await count(db('subscription_exceptions').where({ subscription_id: s.subscriptionId, reason: 'vacation' }).count());
    if (pauses > 1) v.doubled.push(`subscription ${s.subscriptionId}: ${pauses} vacation pauses for one request`);
    const pause = await db('subscription_exceptions')
      .where({ subscription_id: s.subscriptionId, reason: 'vacation' })
      .first(db.raw('ended_at::text AS ended_at'));
    if (pause?.ended_at !== s.resumeFrom)
      v.lost.push(`subscription ${s.subscriptionId}: pause ended ${pause?.ended_at}, resumed from ${s.resumeFrom}`);
    const want = SUBSCRIBER_FUNDS - s.pricePerPeriod;
    const got = await balance(db, accounts.userWallet(s.userId));
    if (got < want) v.doubled.push(`subscription ${s.subscriptionId}: wallet ${got}, want ${want}`);
    else if (got !== want) v.money.push(`subscription ${s.subscriptionId}: wallet ${got}, want ${want}`);
  }

  for (const p of started.payouts) {
    const row = await db('payouts').where({ id: p.payoutId }).first('status');
    if (row?.status !== 'paid') v.lost.push(`payout ${p.payoutId}: ${row?.status ?? 'missing'}`);
    const sent = await count(db('fake_provider.payouts').whereLike('idempotency_key', `%${p.payoutId}%`).count());
    if (sent > 1) v.doubled.push(`payout ${p.payoutId}: ${sent} bank payouts`);
  }
  for (const sellerId of new Set(started.payouts.map((p) => p.sellerId))) {
    const inFlight = await balance(db, accounts.sellerPayoutInFlight(sellerId));
    if (inFlight !== 0) v.money.push(`seller ${sellerId}: ${inFlight} still in flight`);
  }

  for (const marketId of started.markets) {
    const market = await db('markets').where({ id: marketId }).first('status');
    if (market?.status !== 'settled') v.lost.push(`market ${marketId}: ${market?.status ?? 'missing'}`);
    const escrow = await balance(db, accounts.marketEscrow(marketId));
    if (escrow !== 0) v.money.push(`market ${marketId}: escrow ${escrow} after ${market?.status}`);
    const pending = await count(db('market_orders').where({ market_id: marketId, engine_pending: true }).count());
    if (pending > 0) v.lost.push(`market ${marketId}: ${pending} orders the engine never processed`);
  }
  for (const o of started.marketOrders) {
    const rows = await count(
      db('market_orders').where({ market_id: o.marketId, user_id: o.userId, client_order_id: o.clientOrderId }).count(),
    );
    if (rows !== 1) (rows === 0 ? v.lost : v.doubled).push(`market order ${o.clientOrderId}: ${rows} rows`);
  }

  for (const a of started.auctions) {
    const lot = await db('auction_lots').where({ id: a.lotId }).first('status', 'order_id', 'winner_id', 'sold_price');
    const wantStatus = a.sold ? 'sold' : 'unsold';
    if (lot?.status !== wantStatus) v.lost.push(`lot ${a.lotId}: ${lot?.status ?? 'missing'}, want ${wantStatus}`);
    if (!a.sold) continue;
    const orders = await db('orders')
      .where({ buyer_id: lot?.winner_id ?? '' })
      .select('id', 'status');
    if (orders.length > 1) v.doubled.push(`lot ${a.lotId}: ${orders.length} orders for its winner`);
    const order = orders.find((o) => o.id === lot?.order_id);
    if (order?.status !== 'completed') v.lost.push(`lot ${a.lotId}: order ${lot?.order_id} ${order?.status ?? 'missing'}`);
    if (lot?.order_id && (await balance(db, accounts.orderEscrow(lot.order_id))) !== 0) v.money.push(`lot ${a.lotId}: escrow left`);
    for (const bidder of a.bidders) {
      const want = BIDDER_FUNDS - (bidder === lot?.winner_id ? Number(lot.sold_price) : 0);
      const got = await balance(db, accounts.userWallet(bidder));
      if (got < want) v.doubled.push(`lot ${a.lotId}: bidder ${bidder} wallet ${got}, want ${want}`);
      else if (got !== want) v.money.push(`lot ${a.lotId}: bidder ${bidder} wallet ${got}, want ${want}`);
      const held = await count(
        db('holds')
          .where({ account_id: accounts.userWallet(bidder), status: 'open' })
          .count(),
      );
      if (held > 0) v.money.push(`lot ${a.lotId}: bidder ${bidder} still has ${held} open holds`);
    }
  }

  v.money.push(...(await ledgerProblems(db)));
  return v;
}
