import { RedisPubSub } from '../../infra/pubsub';
import { startTestApi, type TestApi } from '../support/api';
import { messagesOf } from '../support/asyncapi-messages';
import { bid, createLot, fundedBidders, heldFor, seedAuctionSeller, waitForLot } from '../support/auctions';
import { expectOrdersBalanced } from '../support/checkout';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { testEnv } from '../support/env';
import { startTestWorker, type TestWorker } from '../support/temporal';
import { WsTestClient } from '../support/ws-client';

let tdb: TestDatabase;
let worker: TestWorker;
let apiA: TestApi;
let apiB: TestApi;
const buses: RedisPubSub[] = [];
const bus = () => {
  const b = new RedisPubSub(testEnv.redisUrl);
  buses.push(b);
  return b;
};

beforeAll(async () => {
  tdb = await createTestDatabase();
  // The worker and two API instances, each on its own Redis connection: every frame crosses Redis.
  worker = await startTestWorker({ db: tdb.db, pubsub: bus() });
  const env = { RATE_LIMIT_PER_MINUTE: '100000' };
  apiA = await startTestApi({ db: tdb.db, temporal: worker.client, taskQueue: worker.taskQueue, pubsub: bus(), env });
  apiB = await startTestApi({ db: tdb.db, temporal: worker.client, taskQueue: worker.taskQueue, pubsub: bus(), env });
});
afterAll(async () => {
  await apiA?.close();
  await apiB?.close();
  await worker?.shutdown();
  for (const b of buses) await b.close();
  await tdb?.drop();
});

const frameOf = ({ receivedAt: _receivedAt, ...frame }: any) => frame;

test('a bid over HTTP reaches a second viewer on another instance; the outbid bidder hears it and gets the hold back', async () => {
  const seller = await seedAuctionSeller(tdb.db, apiA);
  const lotId = await createLot(apiA, seller, { startingPrice: 10_000, durationSeconds: 4 });
  const viewerToken = apiA.token('viewer-1');
  await waitForLot(apiA, viewerToken, lotId, 'open');
  const [asha, ravi] = await fundedBidders(tdb.db, apiA, 2, 100_000);

  // Two anonymous viewers (one per instance) and each bidder's own authenticated socket on instance B.
  const viewerA = await WsTestClient.connect(apiA.url);
  const viewerB = await WsTestClient.connect(apiB.url);
  const ashaSocket = await WsTestClient.connect(apiB.url, asha.token);
  const raviSocket = await WsTestClient.connect(apiB.url, ravi.token);
  for (const s of [ashaSocket, raviSocket]) await s.waitFor((m) => m.type === 'authenticated');
  for (const v of [viewerA, viewerB]) {
    v.send({ op: 'subscribe', lot: lotId });
    expect(await v.waitFor((m) => m.type === 'snapshot')).toMatchObject({
      lot: lotId,
      seq: 1,
      view: { status: 'open', price: null, bidCount: 0 },
    });
  }

  const first = await bid(apiA, asha, lotId, 10_000, 15_000);
  expect(first.status).toBe(201);
  const seen = await viewerB.waitFor((m) => m.type === 'update' && m.view.bidCount === 1);
  expect(seen).toMatchObject({
    lot: lotId,
    seq: 2,
    event: 'bid',
    view: { price: 10_000, leader: first.body.lot.leader, nextMinimum: 11_000 },
  });
  // Watchers see a pseudonym, never the bidder's id.
  expect(JSON.stringify(viewerB.messages)).not.toContain(asha.userId);
  await ashaSocket.waitFor((m) => m.type === 'auction.winning' && m.lotId === lotId);
  expect(await heldFor(tdb.db, asha.userId)).toBe(15_000);

  const second = await bid(apiA, ravi, lotId, 20_000);
  expect(second.body.bid.leading).toBe(true);
  await viewerA.waitFor((m) => m.type === 'update' && m.view.price === 20_000);
  await viewerB.waitFor((m) => m.type === 'update' && m.view.price === 20_000);
  expect(await ashaSocket.waitFor((m) => m.type === 'auction.outbid')).toMatchObject({ lotId, price: 20_000, nextMinimum: 21_000 });
  expect(await ashaSocket.waitFor((m) => m.type === 'auction.hold_released')).toMatchObject({ lotId, amount: 15_000 });
  expect(await heldFor(tdb.db, asha.userId)).toBe(0);

  // The close and the sale reach the watchers too; the winner hears it on their own stream.
  await viewerB.waitFor((m) => m.type === 'update' && m.event === 'sold', 15_000);
  const won = await raviSocket.waitFor((m) => m.type === 'auction.won', 15_000);
  expect(won).toMatchObject({ lotId, price: 20_000 });
  await waitForLot(apiA, viewerToken, lotId, 'sold');

  // Every frame is one of the AsyncAPI document's messages; seq has no gaps, views only move forward.
  const doc = (await apiA.request('GET', '/asyncapi.json')).body;
  const { checkServerFrame } = messagesOf(doc);
  for (const socket of [viewerA, viewerB, ashaSocket, raviSocket])
    for (const m of socket.messages) expect([m.type, checkServerFrame(frameOf(m))]).toEqual([m.type, 'ok']);
  for (const viewer of [viewerA, viewerB]) {
    const feed = viewer.messages.filter((m) => m.lot === lotId);
    expect(feed.map((m) => m.seq)).toEqual(feed.map((_, i) => i + 1));
    const versions = feed.map((m) => m.view.version);
    expect([...versions].sort((x, y) => x - y)).toEqual(versions);
    expect(new Set(versions).size).toBe(versions.length);
  }
  for (const socket of [ashaSocket, raviSocket]) {
    const own = socket.messages.filter((m) => String(m.type).startsWith('auction.'));
    expect(own.map((m) => m.seq)).toEqual(own.map((_, i) => i + 1));
  }
  for (const s of [viewerA, viewerB, ashaSocket, raviSocket]) s.close();
  await expectLedgerInvariants(tdb.db);
  await expectOrdersBalanced(tdb.db);
});

test('a show subscription gets its lots, their changes and the show’s own status', async () => {
  const seller = await seedAuctionSeller(tdb.db, apiA);
  const created = await apiA.request('POST', '/v1/shows', {
    token: seller.token,
    idempotencyKey: 'show-ws-1',
    body: { sellerId: seller.sellerId, title: 'Evening show' },
  });
  const showId = created.body.showId;
  const lotId = await createLot(apiA, seller, { showId, durationSeconds: 30 });
  const viewer = await WsTestClient.connect(apiB.url);
  viewer.send({ op: 'subscribe', show: showId });
  expect(await viewer.waitFor((m) => m.type === 'snapshot')).toMatchObject({ show: showId, status: 'scheduled', lots: [{ lotId }] });
  viewer.send({ op: 'subscribe', show: 'show_doesnotexist0' });
  await viewer.waitFor((m) => m.code === 'show_not_found');

  await apiA.request('POST', `/v1/shows/${showId}/start`, { token: seller.token });
  await viewer.waitFor((m) => m.type === 'update' && m.event === 'show' && m.status === 'live');
  await apiA.request('POST', `/v1/shows/${showId}/lots/${lotId}/start`, { token: seller.token });
  await viewer.waitFor((m) => m.type === 'update' && m.event === 'opened' && m.view.lotId === lotId);
  const [b] = await fundedBidders(tdb.db, apiA, 1, 50_000);
  await bid(apiA, b, lotId, 10_000);
  await viewer.waitFor((m) => m.type === 'update' && m.event === 'bid' && m.view.bidCount === 1);
  const cancel = await apiA.request('POST', `/v1/auctions/${lotId}/cancel`, { token: seller.token });
  expect([cancel.status, cancel.body.error.code]).toEqual([409, 'lot_has_bids']);
  await apiA.request('POST', `/v1/shows/${showId}/end`, { token: seller.token });
  await viewer.waitFor((m) => m.type === 'update' && m.event === 'show' && m.status === 'ended');

  const doc = (await apiA.request('GET', '/asyncapi.json')).body;
  const { checkServerFrame } = messagesOf(doc);
  for (const m of viewer.messages) expect([m.type, checkServerFrame(frameOf(m))]).toEqual([m.type, 'ok']);
  const feed = viewer.messages.filter((m) => m.show === showId && m.type !== 'error');
  expect(feed.map((m) => m.seq)).toEqual(feed.map((_, i) => i + 1));
  viewer.close();
});
