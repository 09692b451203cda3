import { accounts } from '../../domain/ledger/accounts';
import { getBalance } from '../../db/ledger-reports';
import {
  paymentConfirmedSignal,
  topupPollNowSignal,
  topupStateQuery,
  topupWorkflowId,
  type TopupInput,
  type TopupState,
} from '../../contracts/topup';
import { topupWorkflow } from '../../workflows/topup';
import { expectLedgerInvariants, type TestDatabase } from '../support/db';
import { heldPaymentProvider } from '../support/held-payment-provider';
import { startTestSystem, stopTestSystem } from '../support/system';
import { eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';
import { spawnWorkerProcess } from '../support/worker-process-handle';

let tdb: TestDatabase;
let worker: TestWorker;

beforeAll(async () => ({ tdb, worker } = await startTestSystem()));
afterAll(stopTestSystem);
afterEach(async () => {
  await expectLedgerInvariants(tdb.db);
});

async function createTopup(userId: string, amount: number, paymentMethod: string): Promise<TopupInput> {
  const topupId = uniqueId('tu_');
  await tdb.db('topups').insert({ id: topupId, user_id: userId, amount, payment_method: paymentMethod, status: 'pending' });
  return { topupId, userId, amount, paymentMethod };
}

async function runTopup(input: TopupInput, taskQueue = worker.taskQueue): Promise<TopupState> {
  return worker.client.workflow.execute(topupWorkflow, { taskQueue, workflowId: topupWorkflowId(input.topupId), args: [input] });
}

const wallet = (userId: string) => getBalance(tdb.db, accounts.userWallet(userId));

test('pm_ok credits the wallet once and marks the top-up succeeded', async () => {
  const input = await createTopup(uniqueId('u'), 25_000, 'pm_ok');
  const result = await runTopup(input);
  expect(result.status).toBe('succeeded');
  expect((await wallet(input.userId)).balance).toBe(25_000);
  expect((await tdb.db('topups').where({ id: input.topupId }).first()).status).toBe('succeeded');
});

test('pm_flaky succeeds after the provider fails transiently, charging once', async () => {
  const input = await createTopup(uniqueId('u'), 10_000, 'pm_flaky_2');
  const result = await runTopup(input);
  expect(result.status).toBe('succeeded');
  expect((await wallet(input.userId)).balance).toBe(10_000);
  const calls = await tdb
    .db('fake_provider.calls')
    .where({ idempotency_key: `topup-${input.topupId}:charge` })
    .first();
  expect(calls.count).toBe(3);
  expect(
    await tdb
      .db('fake_provider.payments')
      .where({ idempotency_key: `topup-${input.topupId}:charge` })
      .count(),
  ).toEqual([{ count: 1 }]);
});

test.each([
  ['pm_declined', 'card_declined'],
  ['pm_insufficient_funds', 'insufficient_funds'],
])('%s ends declined with a clear code and leaves the wallet unchanged', async (method, code) => {
  const input = await createTopup(uniqueId('u'), 10_000, method);
  const result = await runTopup(input);
  expect(result).toMatchObject({ status: 'declined', failureCode: code });
  expect((await wallet(input.userId)).balance).toBe(0);
  expect((await tdb.db('topups').where({ id: input.topupId }).first()).failure_code).toBe(code);
});

test('pm_timeout (no webhook) is confirmed by polling', async () => {
  const input = await createTopup(uniqueId('u'), 5_000, 'pm_timeout');
  const result = await runTopup(input);
  expect(result.status).toBe('succeeded');
  expect((await wallet(input.userId)).balance).toBe(5_000);
});

test('the paymentConfirmed signal (webhook) confirms without waiting for the poll', async () => {
  const input = await createTopup(uniqueId('u'), 7_000, 'pm_timeout');
  const handle = await worker.client.workflow.start(topupWorkflow, {
    taskQueue: worker.taskQueue,
    workflowId: topupWorkflowId(input.topupId),
    args: [input],
  });
  const state = await eventually(async () => {
    const s = await handle.query(topupStateQuery);
    return s.status === 'awaiting_confirmation' ? s : null;
  });
  await handle.signal(paymentConfirmedSignal, { paymentId: state.paymentId! });
  expect((await handle.result()).status).toBe('succeeded');
  // Confirmed by the signal alone: the provider was never polled.
  const history = await handle.fetchHistory();
  const activities = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
  expect(activities).not.toContain('getTopupPayment');
  expect(activities).toContain('creditTopup');
});

test('a worker killed between charge and credit: the next worker credits exactly once', async () => {
  const taskQueue = `${worker.taskQueue}-kill`;
  const doomed = await spawnWorkerProcess({ databaseUrl: tdb.url, taskQueue });
  const input = await createTopup(uniqueId('u'), 12_345, 'pm_timeout');
  const handle = await worker.client.workflow.start(topupWorkflow, {
    taskQueue,
    workflowId: topupWorkflowId(input.topupId),
    args: [input],
  });
  await eventually(async () => (await tdb.db('topups').where({ id: input.topupId }).first()).status === 'awaiting_confirmation');
  await doomed.kill();

  const rescuer = await startTestWorker({ db: tdb.db, taskQueue });
  try {
    expect((await handle.result()).status).toBe('succeeded');
  } finally {
    await rescuer.shutdown();
  }
  expect((await wallet(input.userId)).balance).toBe(12_345);
  expect(await tdb.db('journal').where({ ref_id: input.topupId }).count()).toEqual([{ count: 1 }]);
});

test('pollNow asks the provider at once instead of at the next poll, and leaves the wait as it was otherwise', async () => {
  // A provider that says `processing` until the test lets it answer, and never sends a webhook.
  const held = heldPaymentProvider(tdb.db);
  const w = await startTestWorker({ db: tdb.db, payments: held.provider });
  try {
    const input = await createTopup(uniqueId('u'), 31_000, 'pm_timeout');
    const handle = await w.client.workflow.start(topupWorkflow, {
      taskQueue: w.taskQueue,
      workflowId: topupWorkflowId(input.topupId),
      args: [input],
    });
    // Two polls in (2 s, then 4 s later): the next one is 8 s away.
    await eventually(async () => held.polls >= 2, 15_000);
    held.answered = true;
    const asked = Date.now();
    await handle.signal(topupPollNowSignal);
    expect((await handle.result()).status).toBe('succeeded');
    expect(Date.now() - asked).toBeLessThan(4_000);
    expect(held.polls).toBe(3);
    expect((await wallet(input.userId)).balance).toBe(31_000);
    expect(await tdb.db('journal').where({ ref_id: input.topupId }).count()).toEqual([{ count: 1 }]);
  } finally {
    await w.shutdown();
  }
}, 30_000);
