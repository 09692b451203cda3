import type { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import {
  CHECKOUT_SAGA_REVISION,
  cancelSignal,
  checkoutWorkflowId,
  markDeliveredSignal,
  type CheckoutInput,
} from '../../contracts/checkout';
import { checkoutWorkflow } from '../../workflows/checkout';
import { startTestApi, type TestApi } from '../support/api';
import { expectOrdersBalanced, fundWallet, placeOrder, seedProduct, seedSeller } from '../support/checkout';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { testEnv } from '../support/env';
import { eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';

/**
 * A checkout started with a saga revision (as the API starts them) takes today's path with no
 * patch markers and no TemporalChangeVersion upserts; one started without it (an older starter)
 * still asks `patched()` and records them. Both confirm, show the same FlowStatus and memo summary,
 * and end with the same money.
 */
let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;

beforeAll(async () => {
  tdb = await createTestDatabase(10);
  worker = await startTestWorker({ db: tdb.db });
  api = await startTestApi({ db: tdb.db, temporal: worker.client, taskQueue: worker.taskQueue });
});
afterAll(async () => {
  await api?.close();
  await worker?.shutdown();
  await tdb?.drop();
});
afterEach(async () => {
  await expectLedgerInvariants(tdb.db);
  await expectOrdersBalanced(tdb.db);
});

type Event = temporal.api.history.v1.IHistoryEvent;
const markers = (events: Event[]) => events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').length;
const changeVersionUpserts = (events: Event[]) =>
  events.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.TemporalChangeVersion).length;

async function confirmedWallet(input: CheckoutInput) {
  const handle = await worker.client.workflow.start(checkoutWorkflow, {
    taskQueue: worker.taskQueue,
    workflowId: checkoutWorkflowId(input.orderId),
    args: [input],
  });
  await eventually(async () => (await tdb.db('orders').where({ id: input.orderId }).first()).status === 'confirmed');
  const described = await eventually(async () => {
    const d = await handle.describe();
    return /: confirmed$/.test(String(d.memo?.summary)) && d;
  });
  expect(described.searchAttributes.FlowStatus).toEqual(['confirmed']);
  await handle.signal(markDeliveredSignal, { by: 'seller' });
  const state = await handle.result();
  expect(state.status).toBe('completed');
  expect(state.fundingSource).toBe('wallet');
  // A worker that lost the run from its cache replays it: the history must match today's code.
  const history = await handle.fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: { codePath: testEnv.workflowBundlePath } }, history, handle.workflowId);
  return history.events ?? [];
}

/** A seller with one product at `price` and a buyer whose wallet holds exactly that. */
async function buyerOf(price: number) {
  const sellerId = await seedSeller(tdb.db);
  const productId = await seedProduct(tdb.db, sellerId, price, 3);
  const buyerId = uniqueId('buyer_');
  await fundWallet(tdb.db, buyerId, price);
  return { sellerId, productId, buyerId };
}

async function order(sagaRevision?: number): Promise<CheckoutInput> {
  const { sellerId, productId, buyerId } = await buyerOf(5_000);
  const input = await placeOrder(tdb.db, { buyerId, sellerId, lines: [{ productId, quantity: 1 }], returnWindowMs: 50 });
  return sagaRevision === undefined ? input : { ...input, sagaRevision };
}

test('a run with the saga revision places in one step with no patch marker and no TemporalChangeVersion upsert', async () => {
  const events = await confirmedWallet(await order(CHECKOUT_SAGA_REVISION));
  expect(markers(events)).toBe(0);
  expect(changeVersionUpserts(events)).toBe(0);
  // One local activity placed the order (validate, reserve, charge, confirm).
  const localActivities = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
  expect(localActivities.length).toBeGreaterThanOrEqual(1);
  expect(localActivities.length).toBeLessThanOrEqual(3);
});

test('a run without it (an older starter) still gates the same path behind its patches', async () => {
  const events = await confirmedWallet(await order());
  expect(markers(events)).toBeGreaterThanOrEqual(2);
  expect(changeVersionUpserts(events)).toBeGreaterThanOrEqual(1);
});

test('the API starts checkouts with the current saga revision', async () => {
  const { productId, buyerId } = await buyerOf(2_500);
  const res = await api.request('POST', '/v1/checkout?wait=true', {
    token: api.token(buyerId),
    idempotencyKey: uniqueId('key_'),
    body: { lines: [{ productId, quantity: 1, unitPrice: 2_500 }] },
  });
  expect(res.status).toBe(201);
  const handle = worker.client.workflow.getHandle(checkoutWorkflowId(res.body.orderId));
  const events = (await handle.fetchHistory()).events ?? [];
  const started = events[0].workflowExecutionStartedEventAttributes!;
  const input = JSON.parse(Buffer.from(started.input!.payloads![0].data!).toString());
  expect(input.sagaRevision).toBe(CHECKOUT_SAGA_REVISION);
  expect(markers(events)).toBe(0);
  await handle.signal(cancelSignal, { by: buyerId });
  expect((await handle.result()).status).toBe('cancelled');
});
