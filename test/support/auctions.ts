import type { Db } from '../../db/knex';
import { accounts } from '../../domain/ledger/accounts';
import type { TestApi } from './api';
import { fundWallet, seedProduct, seedSeller } from './checkout';
import { eventually, uniqueId } from './temporal';

/** Fixtures and money checks for the live-auction tests. */
export interface AuctionSeller {
  sellerId: string;
  productId: string;
  token: string;
}

export async function seedAuctionSeller(db: Db, api: TestApi, stock = 5): Promise<AuctionSeller> {
  const sellerId = await seedSeller(db);
  const productId = await seedProduct(db, sellerId, 10_000, stock);
  // A development token naming the seller acts for it.
  return { sellerId, productId, token: api.token(sellerId, ['seller']) };
}

export interface LotOptions {
  startingPrice?: number;
  reservePrice?: number;
  buyNowPrice?: number;
  durationSeconds?: number;
  softCloseSeconds?: number;
  suddenDeath?: boolean;
  showId?: string;
  startsInMs?: number;
}

/** A lot on its own schedule (opening `startsInMs` from now), or in a show when `showId` is given. */
export async function createLot(api: TestApi, seller: AuctionSeller, o: LotOptions = {}): Promise<string> {
  const res = await api.request('POST', '/v1/auctions', {
    token: seller.token,
    idempotencyKey: uniqueId('lot-'),
    body: {
      sellerId: seller.sellerId,
      productId: seller.productId,
      startingPrice: o.startingPrice ?? 10_000,
      ...(o.reservePrice !== undefined ? { reservePrice: o.reservePrice } : {}),
      ...(o.buyNowPrice !== undefined ? { buyNowPrice: o.buyNowPrice } : {}),
      durationSeconds: o.durationSeconds ?? 5,
      // Short lots in tests: a window as long as the lot would extend it on every bid.
      softCloseSeconds: o.softCloseSeconds ?? 1,
      ...(o.suddenDeath !== undefined ? { suddenDeath: o.suddenDeath } : {}),
      ...(o.showId ? { showId: o.showId } : { startsAt: new Date(Date.now() + (o.startsInMs ?? 0)).toISOString() }),
    },
  });
  if (res.status !== 201) throw new Error(`creating a lot: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.lotId;
}

export async function waitForLot(api: TestApi, token: string, lotId: string, status: string, timeoutMs = 20_000) {
  return eventually(
    async () => {
      const res = await api.request('GET', `/v1/auctions/${lotId}`, { token });
      return res.body.status === status ? res.body : null;
    },
    timeoutMs,
    25,
  );
}

export interface Bidder {
  userId: string;
  token: string;
}

export async function fundedBidders(db: Db, api: TestApi, n: number, funds = 1_000_000): Promise<Bidder[]> {
  const bidders: Bidder[] = [];
  for (let i = 0; i < n; i++) {
    const userId = uniqueId('bidder_');
    await fundWallet(db, userId, funds);
    bidders.push({ userId, token: api.token(userId) });
  }
  return bidders;
}

export function bid(api: TestApi, b: Bidder, lotId: string, amount: number, maxAmount?: number, clientBidId = uniqueId('b')) {
  return api.request('POST', `/v1/auctions/${lotId}/bids`, {
    token: b.token,
    body: { amount, clientBidId, ...(maxAmount !== undefined ? { maxAmount } : {}) },
  });
}

/** What is held for each bidder on this lot's behalf (open holds). */
export async function heldOnLot(db: Db, lotId: string): Promise<Record<string, number>> {
  const rows = await db('holds').where({ ref_type: 'auction_lot', ref_id: lotId, status: 'open' }).select('account_id', 'remaining');
  return Object.fromEntries(rows.map((r) => [r.account_id.replace(/^user:/, '').replace(/:wallet$/, ''), Number(r.remaining)]));
}

export async function heldFor(db: Db, userId: string): Promise<number> {
  const row = await db('account_balances')
    .where({ account_id: accounts.userWallet(userId), shard: 0 })
    .first('held');
  return row ? Number(row.held) : 0;
}
