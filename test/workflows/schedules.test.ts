import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../app/config';
import { ensureSchedules, scheduleDefinitions } from '../../app/schedules';
import { accounts } from '../../domain/ledger/accounts';
import { transfer } from '../../domain/ledger/journal';
import { postJournal } from '../../db/ledger';
import { balanceOf, seedSeller } from '../support/checkout';
import { expectLedgerInvariants, type TestDatabase } from '../support/db';
import { startTestSystem, stopTestSystem } from '../support/system';
import { eventually, type TestWorker } from '../support/temporal';

// Schedule ids are namespace-wide and this is the only test that registers them.
let tdb: TestDatabase;
let worker: TestWorker;
beforeAll(async () => ({ tdb, worker } = await startTestSystem()));
afterAll(async () => {
  for (const def of scheduleDefinitions(loadConfig({ NODE_ENV: 'test' }))) {
    await worker?.client.schedule
      .getHandle(def.scheduleId)
      .delete()
      .catch(() => undefined);
  }
  await stopTestSystem();
});

const config = (taskQueue: string) => loadConfig({ NODE_ENV: 'test', TEMPORAL_TASK_QUEUE: taskQueue });
const describe_ = (id: string) => worker.client.schedule.getHandle(id).describe();

test('start-up registers each recurring job as a Temporal Schedule at its local time; a second start updates, never duplicates', async () => {
  await ensureSchedules(worker.client, config('stale-queue'));
  await ensureSchedules(worker.client, config(worker.taskQueue));

  const listed: string[] = [];
  for await (const s of worker.client.schedule.list()) listed.push(s.scheduleId);
  const ids = scheduleDefinitions(config(worker.taskQueue)).map((d) => d.scheduleId);
  expect(listed.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());

  // 06:00 IST on Monday is 00:30 UTC; 22:00 IST is 16:30 UTC; 00:05 IST is 18:35 UTC the day before.
  const utc = (d: Date) => [d.getUTCHours(), d.getUTCMinutes()];
  const payouts = await describe_('seller-payouts-weekly');
  expect(payouts.info.nextActionTimes[0].getUTCDay()).toBe(1);
  expect(utc(payouts.info.nextActionTimes[0])).toEqual([0, 30]);
  expect(utc((await describe_('subscriptions-nightly-orders-asia-kolkata')).info.nextActionTimes[0])).toEqual([16, 30]);
  expect(utc((await describe_('ledger-daily-maintenance')).info.nextActionTimes[0])).toEqual([18, 35]);
  for (const id of ids) {
    const action = (await describe_(id)).action;
    expect(action.type === 'startWorkflow' && action.taskQueue).toBe(worker.taskQueue);
  }
});

test('the weekly payout schedule, triggered, pays each seller with a positive payable once', async () => {
  await ensureSchedules(worker.client, config(worker.taskQueue));
  const seller = await seedSeller(tdb.db);
  await postJournal(tdb.db, {
    idempotencyKey: `test-settle-${randomUUID()}`,
    reason: 'order_settlement',
    lines: transfer(accounts.externalPsp, accounts.sellerPayable(seller), 4_200),
  });
  await worker.client.schedule.getHandle('seller-payouts-weekly').trigger();
  const paid = await eventually(async () => (await tdb.db('payouts').where({ seller_id: seller, status: 'paid' }).first()) ?? null);
  expect(paid.amount).toBe(4_200);
  expect(await balanceOf(tdb.db, accounts.sellerPayable(seller))).toBe(0);
  expect(await balanceOf(tdb.db, accounts.externalBank)).toBeGreaterThanOrEqual(4_200);
  await expectLedgerInvariants(tdb.db);
});
