import { termsOf, type LotRow, type StoredBid } from '../../db/auction-lots';
import type { Db } from '../../db/knex';
import { sealedOutcome } from '../../domain/auction';
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

// --- concurrency, recovery and second-chance checks --------------------------------------------------

/** The lot's row as stored (times as Dates, money as numbers). */
export async function lotRow(db: Db, lotId: string): Promise<LotRow> {
  const row = await db('auction_lots').where({ id: lotId }).first();
  if (!row) throw new Error(`lot ${lotId} not found`);
  return row;
}

/**
 * What the funds held on a lot's behalf look like at one instant: one statement, so the holds, the
 * bidders' `held` balances and the lot's leader are read from the same snapshot.
 */
export interface HeldSnapshot {
  openHolds: number;
  openRemaining: number;
  heldByBidders: number;
  leaderMax: number | null;
}

export async function heldSnapshot(db: Db, lotId: string, bidderIds: string[]): Promise<HeldSnapshot> {
  const { rows } = await db.raw(
    `SELECT (SELECT count(*) FROM holds WHERE ref_type = 'auction_lot' AND ref_id = ? AND status = 'open') AS open_holds,
            (SELECT coalesce(sum(remaining), 0) FROM holds WHERE ref_type = 'auction_lot' AND ref_id = ? AND status = 'open') AS open_remaining,
            (SELECT coalesce(sum(held), 0) FROM account_balances WHERE account_id = ANY(?)) AS held_by_bidders,
            (SELECT (book -> 'leader' ->> 'maxAmount')::bigint FROM auction_lots WHERE id = ?) AS leader_max`,
    [lotId, lotId, bidderIds.map((id) => accounts.userWallet(id)), lotId],
  );
  const r = rows[0];
  return {
    openHolds: Number(r.open_holds),
    openRemaining: Number(r.open_remaining),
    heldByBidders: Number(r.held_by_bidders),
    leaderMax: r.leader_max === null ? null : Number(r.leader_max),
  };
}

/** Samples `heldSnapshot` until `stop()` is called; returns every sample taken. */
export function sampleHeld(db: Db, lotId: string, bidderIds: string[], everyMs = 5): { stop(): Promise<HeldSnapshot[]> } {
  const samples: HeldSnapshot[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      samples.push(await heldSnapshot(db, lotId, bidderIds));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

/** The lot's accepted bids, oldest first. */
export async function acceptedBids(db: Db, lotId: string): Promise<StoredBid[]> {
  return db('auction_bids').where({ lot_id: lotId }).orderBy('seq');
}

/**
 * Who the rules say wins, from the bids the lot accepted: the sealed second-price reference
 * (domain/auction/sealed.ts) over every bidder's accepted bids, each bid's envelope dated by its seq.
 */
export async function sealedWinner(db: Db, lotId: string): Promise<{ winnerId: string | null; price: number | null }> {
  const bids = await acceptedBids(db, lotId);
  return sealedOutcome(
    termsOf(await lotRow(db, lotId)),
    bids.map((b) => ({ bidderId: b.bidder_id, amount: b.amount, maxAmount: b.max_amount, since: b.seq })),
  );
}

/** The journals that charged an order (the winner's hold captured into its escrow). */
export async function chargeJournals(db: Db, orderId: string): Promise<Array<{ id: number; idempotency_key: string }>> {
  return db('journal').where({ ref_type: 'order', ref_id: orderId, reason: 'order_charge' }).select('id', 'idempotency_key');
}

export async function waitForOrderStatus(db: Db, orderId: string, status: string, timeoutMs = 20_000): Promise<void> {
  await eventually(async () => (await db('orders').where({ id: orderId }).first('status'))?.status === status, timeoutMs, 50);
}

/** The lot's workflow state as its seller sees it (GET /v1/auctions/:lotId/state). */
export async function lotPhase(api: TestApi, seller: AuctionSeller, lotId: string) {
  const res = await api.request('GET', `/v1/auctions/${lotId}/state`, { token: seller.token });
  if (res.status !== 200) throw new Error(`lot state: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { phase: string; offer: { offerId: number; amount: number; expiresAt: string } | null };
}

export async function waitForPhase(api: TestApi, seller: AuctionSeller, lotId: string, phase: string, timeoutMs = 20_000) {
  return eventually(
    async () => {
      const state = await lotPhase(api, seller, lotId);
      return state.phase === phase ? state : null;
    },
    timeoutMs,
    50,
  );
}

/**
 * The lot's bids stored at or after its close, or after its end, compared in the database at full
 * (microsecond) precision: a JavaScript Date would round a bid placed 0.4 ms late onto the end.
 */
export async function bidsPlacedLate(db: Db, lotId: string): Promise<Array<{ seq: number; placed: string; ends: string; closed: string }>> {
  const { rows } = await db.raw(
    `SELECT b.seq, b.placed_at::text AS placed, l.ends_at::text AS ends, l.closed_at::text AS closed
     FROM auction_bids b JOIN auction_lots l ON l.id = b.lot_id
     WHERE b.lot_id = ? AND (b.placed_at >= l.closed_at OR b.placed_at > l.ends_at OR l.closed_at IS NULL)
     ORDER BY b.seq`,
    [lotId],
  );
  return rows;
}

/**
 * Takes the lot's row lock in a transaction of the test's own and keeps it until `release()`, as
 * any transaction that locks the lot without changing it does (a refused bid, a close that finds
 * the lot still open). Bids sent meanwhile queue behind it, in the order they arrive.
 */
export async function holdLotLock(db: Db, lotId: string): Promise<{ release(): Promise<void> }> {
  const trx = await db.transaction();
  await trx.raw(`SELECT id FROM auction_lots WHERE id = ? FOR UPDATE`, [lotId]);
  return { release: async () => void (await trx.commit()) };
}

/**
 * Waits until `n` statements of this database are waiting for a lock on the lot (queued behind
 * holdLotLock): a locked bid transaction, a close, or the one-statement bid commit (commit_auction_bids).
 */
export async function waitForLotLockWaiters(db: Db, n: number): Promise<void> {
  await eventually(
    async () => {
      const { rows } = await db.raw(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'
           AND (query ILIKE '%auction_lots%' OR query ILIKE '%commit_auction_bids%')`,
      );
      return rows[0].n >= n;
    },
    5_000,
    10,
  );
}
