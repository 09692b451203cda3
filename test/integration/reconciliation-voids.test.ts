import { insertMarket, markVoidStarted } from '../../db/market-lifecycle';
import { findReconciliationItem, listReconciliation } from '../../db/reconciliation';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { uniqueId } from '../support/temporal';

/**
 * A void that has not finished some minutes after it began paying back is listed for a human even
 * when none of its steps parked, as a resolved market not settled in time is.
 */
let tdb: TestDatabase;
beforeAll(async () => (tdb = await createTestDatabase()));
afterAll(() => tdb?.drop());

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000);

async function market(fields: Record<string, unknown>): Promise<string> {
  const id = uniqueId('mk_');
  await insertMarket(tdb.db, {
    id,
    question: `Void case ${id}`,
    opensAt: minutesAgo(120),
    closesAt: minutesAgo(60),
    feeBps: 0,
    disputeWindowSeconds: 0,
    resolutionDeadlineSeconds: 3600,
    createdBy: 'ops',
  });
  await tdb.db('markets').where({ id }).update(fields);
  return id;
}

test('a void unfinished past the grace is listed once, with its reason; a recent or finished void is not', async () => {
  const slow = await market({ status: 'open', void_started_at: minutesAgo(20) });
  const recent = await market({ status: 'closed', closed_at: minutesAgo(50), void_started_at: minutesAgo(2) });
  const done = await market({ status: 'voided', void_started_at: minutesAgo(30), voided_at: minutesAgo(29) });
  // Resolved, then voided in its dispute window: the void is what is unfinished, not a settlement.
  const resolvedThenVoided = await market({
    status: 'resolved',
    outcome: 'YES',
    closed_at: minutesAgo(60),
    resolved_at: minutesAgo(40),
    void_started_at: minutesAgo(30),
  });

  const page = await listReconciliation(tdb.db, { kinds: ['market_settlement_unfinished'] }, { limit: 50 });
  const listed = page.items.map((i) => [i.ref, i.reason]);
  expect(listed).toEqual([
    [resolvedThenVoided, `Void not finished: Void case ${resolvedThenVoided}`],
    [slow, `Void not finished: Void case ${slow}`],
  ]);
  expect(page.items[1]).toMatchObject({ workflowId: `market-${slow}`, details: { marketStatus: 'open' } });
  expect(await findReconciliationItem(tdb.db, 'market_settlement_unfinished', slow)).toMatchObject({ ref: slow });
  for (const ref of [recent, done]) expect(await findReconciliationItem(tdb.db, 'market_settlement_unfinished', ref)).toBeNull();
});

test('the void is timed from its first attempt: a retried refund keeps the start', async () => {
  const id = await market({ status: 'open' });
  await markVoidStarted(tdb.db, id);
  const first = (await tdb.db('markets').where({ id }).first('void_started_at')).void_started_at as Date;
  expect(first).toBeInstanceOf(Date);
  await new Promise((r) => setTimeout(r, 20));
  await markVoidStarted(tdb.db, id);
  expect((await tdb.db('markets').where({ id }).first('void_started_at')).void_started_at).toEqual(first);
});
