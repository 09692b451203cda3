/**
 * An API instance decides a hot lot's bids against the lot as it last committed it (its memory:
 * db/auction-bids.ts#LotMemory) and commit_auction_bids fences those decisions in the database.
 * What the memory cannot know — funds spent or topped up elsewhere, another instance's bids, the
 * close — must still decide the answer. And a lot's update reaches hundreds of watchers, sent out a
 * slice at a time, with gap-free seq and views that only move forward.
 */
import { placeHold } from '../../db/ledger';
import { accounts } from '../../domain/ledger/accounts';
import { startTestApi, type TestApi } from '../support/api';
import {
  acceptedBids,
  bid,
  createLot,
  fundedBidders,
  heldOnLot,
  lotRow,
  seedAuctionSeller,
  waitForLot,
  type AuctionSeller,
} from '../support/auctions';
import { fundWallet } from '../support/checkout';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { startTestWorker, uniqueId, type TestWorker } from '../support/temporal';
import { WsTestClient } from '../support/ws-client';

const UNLIMITED = { RATE_LIMIT_PER_MINUTE: '100000', RATE_LIMIT_PER_IP_PER_MINUTE: '100000' };

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;
let other: TestApi;
let seller: AuctionSeller;
let watcher: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  worker = await startTestWorker({ db: tdb.db });
  api = await startTestApi({ db: tdb.db, temporal: worker.client, taskQueue: worker.taskQueue, env: UNLIMITED });
  other = await startTestApi({ db: tdb.db, temporal: worker.client, taskQueue: worker.taskQueue, env: UNLIMITED });
  seller = await seedAuctionSeller(tdb.db, api, 20);
  watcher = api.token('memory-watcher');
});
afterAll(async () => {
  await other?.close();
  await api?.close();
  await worker?.shutdown();
  await tdb?.drop();
});

afterEach(async () => {
  await expectLedgerInvariants(tdb.db);
});

/** Funds taken by something else (a checkout's hold) behind the instance's back. */
async function holdElsewhere(userId: string, amount: number): Promise<void> {
  await tdb.db.transaction((trx) =>
    placeHold(trx, { account: accounts.userWallet(userId), amount, idempotencyKey: uniqueId('elsewhere-'), refType: 'test', refId: 'x' }),
  );
}

test('funds spent elsewhere after the instance read them: the bid is refused as unfunded and nothing is held for it', async () => {
  const [a, b] = await fundedBidders(tdb.db, api, 2, 100_000);
  const lotId = await createLot(api, seller, { startingPrice: 10_000, durationSeconds: 30 });
  await waitForLot(api, watcher, lotId, 'open');
  // The instance reads both wallets with these bids.
  expect((await bid(api, a, lotId, 10_000)).status).toBe(201);
  expect((await bid(api, b, lotId, 11_000)).status).toBe(201);
  // a's wallet is spent elsewhere; the instance still remembers ₹1,000 available.
  await holdElsewhere(a.userId, 95_000);
  const refused = await bid(api, a, lotId, 50_000);
  expect([refused.status, refused.body.error?.code]).toEqual([409, 'insufficient_funds']);
  expect(await heldOnLot(tdb.db, lotId)).toEqual({ [b.userId]: 11_000 });
  // b stays the leader at its own price: nothing of the refused bid was recorded.
  const lot = await lotRow(tdb.db, lotId);
  expect([lot.leader_id, lot.price, lot.bid_count]).toEqual([b.userId, 11_000, 2]);
  expect((await acceptedBids(tdb.db, lotId)).map((x) => x.bidder_id)).toEqual([a.userId, b.userId]);
});

test('a top-up after a refusal for funds: the next bid is judged on the wallet as it is now', async () => {
  const [a] = await fundedBidders(tdb.db, api, 1, 20_000);
  const lotId = await createLot(api, seller, { startingPrice: 10_000, durationSeconds: 30 });
  await waitForLot(api, watcher, lotId, 'open');
  const poor = await bid(api, a, lotId, 30_000);
  expect([poor.status, poor.body.error?.code]).toEqual([409, 'insufficient_funds']);
  await fundWallet(tdb.db, a.userId, 50_000);
  const funded = await bid(api, a, lotId, 30_000);
  expect([funded.status, funded.body.lot?.price]).toEqual([201, 30_000]);
  expect(await heldOnLot(tdb.db, lotId)).toEqual({ [a.userId]: 30_000 });
});

test('two instances take turns on one lot: each decides on what the other committed, a replay on either answers the first bid', async () => {
  const bidders = await fundedBidders(tdb.db, api, 4, 1_000_000);
  const lotId = await createLot(api, seller, { startingPrice: 10_000, durationSeconds: 30 });
  await waitForLot(api, watcher, lotId, 'open');
  let minimum = 10_000;
  const accepted: number[] = [];
  for (let i = 0; i < 12; i++) {
    const via = i % 2 === 0 ? api : other;
    const res = await bid(via, bidders[i % bidders.length], lotId, minimum, undefined, `turn-${i}`);
    expect([i, res.status]).toEqual([i, 201]);
    accepted.push(res.body.bid.bidId);
    minimum = res.body.lot.nextMinimum;
  }
  // Each instance remembers a lot the other has since moved: an old minimum is too low on both, and told the real one.
  for (const via of [api, other]) {
    const low = await bid(via, bidders[0], lotId, minimum - 1_000);
    expect([low.status, low.body.error?.code, low.body.error?.details?.nextMinimum]).toEqual([409, 'bid_too_low', minimum]);
  }
  // The first bid sent again, to either instance: its replay, not a refusal for being too low now.
  for (const via of [api, other]) {
    const again = await bid(via, bidders[0], lotId, 10_000, undefined, 'turn-0');
    expect([again.status, again.body.replayed, again.body.bid?.bidId]).toEqual([200, true, accepted[0]]);
  }
  const stored = await acceptedBids(tdb.db, lotId);
  expect(stored.map((b) => b.seq)).toEqual(stored.map((_, i) => i + 1));
  expect(stored.map((b) => b.id)).toEqual(accepted);
  const lot = await lotRow(tdb.db, lotId);
  expect(await heldOnLot(tdb.db, lotId)).toEqual({ [lot.leader_id!]: lot.price });
});

test('250 watchers of a hot lot: each gets gap-free seq, views only forward, and the lot as it ended', async () => {
  const lotId = await createLot(api, seller, { startingPrice: 10_000, durationSeconds: 60 });
  await waitForLot(api, watcher, lotId, 'open');
  const sockets = await Promise.all(Array.from({ length: 250 }, () => WsTestClient.connect(api.url)));
  for (const s of sockets) s.send({ op: 'subscribe', lot: lotId });
  await Promise.all(sockets.map((s) => s.waitFor((m) => m.type === 'snapshot')));

  // Ten bidders outbid each other as fast as they are answered, for 30 accepted bids.
  const bidders = await fundedBidders(tdb.db, api, 10, 10_000_000);
  let minimum = 10_000;
  let acceptedCount = 0;
  const until = Date.now() + 20_000;
  await Promise.all(
    bidders.map(async (b) => {
      while (acceptedCount < 30 && Date.now() < until) {
        const res = await bid(api, b, lotId, minimum + 100 * Math.floor(Math.random() * 5));
        if (res.status === 201) {
          acceptedCount++;
          minimum = Math.max(minimum, res.body.lot.nextMinimum);
        } else if (res.body.error?.code === 'bid_too_low') minimum = Math.max(minimum, res.body.error.details.nextMinimum);
        else expect(res.body.error?.code).toBe('not_above_own_max');
      }
    }),
  );
  expect(acceptedCount).toBeGreaterThanOrEqual(30);
  const lot = await lotRow(tdb.db, lotId);
  expect(lot.bid_count).toBe(acceptedCount);
  await Promise.all(sockets.map((s) => s.waitFor((m) => m.type === 'update' && m.view.version === lot.version)));
  for (const s of sockets) {
    const feed = s.messages.filter((m) => m.lot === lotId);
    expect(feed.map((m) => m.seq)).toEqual(feed.map((_, i) => i + 1));
    const versions = feed.map((m) => m.view.version);
    expect(versions.every((v, i) => i === 0 || v > versions[i - 1])).toBe(true);
    expect(feed[feed.length - 1].view).toMatchObject({ price: lot.price, bidCount: lot.bid_count, version: lot.version });
  }
  for (const s of sockets) s.close();
});
