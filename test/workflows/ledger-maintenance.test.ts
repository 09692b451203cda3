import { accounts, transfer } from '../../domain/ledger';
import { postJournal } from '../../db/ledger';
import { balanceOn } from '../../db/ledger-reports';
import { ledgerMaintenanceWorkflow } from '../../workflows/ledger-maintenance';
import { expectLedgerInvariants, type TestDatabase } from '../support/db';
import { startTestSystem, stopTestSystem } from '../support/system';
import { uniqueId, type TestWorker } from '../support/temporal';

let tdb: TestDatabase;
let worker: TestWorker;
beforeAll(async () => ({ tdb, worker } = await startTestSystem()));
afterAll(stopTestSystem);

test('the nightly job snapshots balances and reports drift found by re-deriving them', async () => {
  const user = uniqueId('night');
  await postJournal(tdb.db, {
    idempotencyKey: uniqueId('k-'),
    reason: 'topup',
    lines: transfer(accounts.externalPsp, accounts.userWallet(user), 9_900),
  });
  const today = new Date().toLocaleDateString('en-CA', { timeZone: 'Asia/Kolkata' });
  const run = (id: string) =>
    worker.client.workflow.execute(ledgerMaintenanceWorkflow, {
      taskQueue: worker.taskQueue,
      workflowId: id,
      args: [{ date: today }],
    });

  expect(await run(uniqueId('ledger-maintenance-'))).toEqual({ snapshotDate: today, snapshots: 2, drift: 0 });
  expect(await balanceOn(tdb.db, accounts.userWallet(user), today)).toBe(9_900);

  await tdb
    .db('account_balances')
    .where({ account_id: accounts.userWallet(user) })
    .increment('balance', 1);
  expect((await run(uniqueId('ledger-maintenance-'))).drift).toBe(1);
  await tdb
    .db('account_balances')
    .where({ account_id: accounts.userWallet(user) })
    .decrement('balance', 1);
  await expectLedgerInvariants(tdb.db);
});
