import { randomUUID } from 'node:crypto';
import { accounts } from '../../domain/ledger/accounts';
import { transfer } from '../../domain/ledger/journal';
import {
  payoutKeys,
  payoutMarkSettledUpdate,
  payoutPollNowSignal,
  payoutStateQuery,
  payoutWorkflowId,
  type PayoutMarkSettled,
} from '../../contracts/payout';
import { readRejection } from '../../domain/rejection';
import { postJournal } from '../../db/ledger';
import { FakePayoutProvider } from '../../infra/fake-payout-provider';
import { PayoutProviderUnavailableError, type ProviderPayout } from '../../infra/payout-provider';
import type { PayoutState } from '../../contracts/payout';
import { payoutSweepWorkflow, payoutWorkflow } from '../../workflows/payout';
import type { TestApi } from '../support/api';
import { balanceOf, seedSeller } from '../support/checkout';
import { expectLedgerInvariants, type TestDatabase } from '../support/db';
import { startTestSystem, stopTestSystem } from '../support/system';
import { eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;

beforeAll(async () => ({ tdb, worker, api } = await startTestSystem()));
afterAll(stopTestSystem);
afterEach(async () => {
  await expectLedgerInvariants(tdb.db);
  // Nothing is ever left in flight once a payout has an answer, and no payout reached the bank twice.
  const dup = await tdb.db.raw(`SELECT idempotency_key FROM fake_provider.payouts GROUP BY idempotency_key HAVING count(*) > 1`);
  expect(dup.rows).toEqual([]);
});

/** Money a seller earned, as settlement would credit it. */
async function credit(sellerId: string, amount: number): Promise<void> {
  await postJournal(tdb.db, {
    idempotencyKey: `test-settle-${randomUUID()}`,
    reason: 'order_settlement',
    lines: transfer(accounts.externalPsp, accounts.sellerPayable(sellerId), amount),
  });
}

async function requestPayout(sellerId: string) {
  return api.request('POST', `/v1/sellers/${sellerId}/payouts`, {
    token: api.token(sellerId, ['seller']),
    idempotencyKey: uniqueId('k_'),
    body: {},
  });
}

async function payoutFor(sellerId: string, bank: string, amount: number, pollMs = 50) {
  const sellerId_ = sellerId;
  await credit(sellerId_, amount);
  await tdb.db('sellers').where({ id: sellerId_ }).update({ bank_account_ref: bank });
  const payoutId = `po_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
  await tdb.db('payouts').insert({ id: payoutId, seller_id: sellerId_, status: 'pending', bank_account_ref: bank, requested_by: 'test' });
  const handle = await worker.client.workflow.start(payoutWorkflow, {
    taskQueue: worker.taskQueue,
    workflowId: payoutWorkflowId(payoutId),
    args: [{ payoutId, sellerId: sellerId_, pollMs, maxPollMs: 400 }],
  });
  return { payoutId, handle };
}

test('ok: payable → in flight → bank; finalised once on confirmation', async () => {
  const sellerId = await seedSeller(tdb.db, { bank: 'ok:SBIN0001' });
  await credit(sellerId, 12_345);
  const res = await requestPayout(sellerId);
  expect(res.status).toBe(202);
  const state: PayoutState = await worker.client.workflow.getHandle(res.body.workflowId).result();
  expect(state).toMatchObject({ status: 'paid', amount: 12_345, unknownRetries: 0 });
  expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(0);
  expect(await balanceOf(tdb.db, accounts.sellerPayoutInFlight(sellerId))).toBe(0);
  const list = await api.request('GET', `/v1/sellers/${sellerId}/payouts`, { token: api.token(sellerId, ['seller']) });
  expect(list.body.payouts[0]).toMatchObject({ status: 'paid', amount: 12_345 });
});

test('fails: the money returns to the payable and the seller sees why', async () => {
  const sellerId = await seedSeller(tdb.db, { bank: 'fails:closed-account' });
  await credit(sellerId, 5_000);
  const res = await requestPayout(sellerId);
  const state: PayoutState = await worker.client.workflow.getHandle(res.body.workflowId).result();
  expect(state).toMatchObject({ status: 'failed', failureCode: 'account_closed' });
  expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(5_000);
  expect(await balanceOf(tdb.db, accounts.sellerPayoutInFlight(sellerId))).toBe(0);
  const seen = await api.request('GET', `/v1/payouts/${res.body.payoutId}`, { token: api.token(sellerId, ['seller']) });
  expect(seen.body).toMatchObject({ status: 'failed', failureCode: 'account_closed' });
  expect(seen.body.failureMessage).toMatch(/back in your payable/);
  // Another seller cannot read it.
  expect((await api.request('GET', `/v1/payouts/${res.body.payoutId}`, { token: api.token(uniqueId('s_'), ['seller']) })).status).toBe(404);
});

test('flaky (accepted, then timeouts): retried with the SAME key while unknown, paid exactly once', async () => {
  const sellerId = await seedSeller(tdb.db);
  const { payoutId, handle } = await payoutFor(sellerId, 'flaky:HDFC', 7_777);
  const state: PayoutState = await handle.result();
  expect(state.status).toBe('paid');
  const calls = await tdb
    .db('fake_provider.payout_calls')
    .where({ idempotency_key: `payout-${payoutId}` })
    .first();
  expect(calls.count).toBeGreaterThanOrEqual(3);
  expect(await tdb.db('fake_provider.payouts').where({ bank_account: 'flaky:HDFC' }).count()).toEqual([{ count: 1 }]);
  expect(await balanceOf(tdb.db, accounts.externalBank)).toBeGreaterThanOrEqual(7_777);
});

test('pending-then-ok: while pending the money stays in flight; finalised when the bank confirms', async () => {
  const sellerId = await seedSeller(tdb.db);
  const { handle } = await payoutFor(sellerId, 'pending-then-ok', 9_000);
  await eventually(async () => (await handle.query(payoutStateQuery)).status === 'awaiting_bank');
  expect(await balanceOf(tdb.db, accounts.sellerPayoutInFlight(sellerId))).toBe(9_000);
  expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(0);
  const desc = await handle.describe();
  expect(desc.searchAttributes.FlowStatus).toEqual(['awaiting_bank']);
  expect(desc.searchAttributes.SellerId).toEqual([sellerId]);
  expect((await handle.result()).status).toBe('paid');
  expect(await balanceOf(tdb.db, accounts.sellerPayoutInFlight(sellerId))).toBe(0);
});

test('pending-then-fails: never released while pending; back to payable when the bank rejects', async () => {
  const sellerId = await seedSeller(tdb.db);
  const { handle, payoutId } = await payoutFor(sellerId, 'pending-then-fails', 4_200);
  await eventually(async () => (await handle.query(payoutStateQuery)).status === 'awaiting_bank');
  expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(0);
  expect((await handle.result()).status).toBe('failed');
  expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(4_200);
  expect((await tdb.db('payouts').where({ id: payoutId }).first()).failure_code).toBe('beneficiary_bank_rejected');
});

test('a non-positive payable is not paid out; a second request while one is active is a 409', async () => {
  const empty = await seedSeller(tdb.db);
  const res = await requestPayout(empty);
  expect(res.status).toBe(422);
  expect(await tdb.db('payouts').where({ seller_id: empty }).count()).toEqual([{ count: 0 }]);

  // The workflow re-checks under a lock: a payable that went negative after the request is skipped.
  const owes = await seedSeller(tdb.db);
  await postJournal(tdb.db, {
    idempotencyKey: `test-${randomUUID()}`,
    reason: 'order_refund',
    lines: transfer(accounts.sellerPayable(owes), accounts.platformRevenue, 500),
  });
  const payoutId = `po_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
  await tdb.db('payouts').insert({ id: payoutId, seller_id: owes, status: 'pending', bank_account_ref: 'ok', requested_by: 'test' });
  const skipped: PayoutState = await worker.client.workflow.execute(payoutWorkflow, {
    taskQueue: worker.taskQueue,
    workflowId: payoutWorkflowId(payoutId),
    args: [{ payoutId, sellerId: owes }],
  });
  expect(skipped.status).toBe('skipped');
  expect(await balanceOf(tdb.db, accounts.sellerPayable(owes))).toBe(-500);

  const slow = await seedSeller(tdb.db, { bank: 'pending-then-ok' });
  await credit(slow, 1_000);
  const first = await requestPayout(slow);
  expect(first.status).toBe(202);
  const second = await requestPayout(slow);
  expect(second.status).toBe(409);
  await worker.client.workflow.getHandle(first.body.workflowId).result();
});

test('the weekly sweep pays every seller with a positive payable, once', async () => {
  const payees = await Promise.all([seedSeller(tdb.db), seedSeller(tdb.db)]);
  for (const s of payees) await credit(s, 2_000);
  const nobody = await seedSeller(tdb.db);
  const result = await worker.client.workflow.execute(payoutSweepWorkflow, {
    taskQueue: worker.taskQueue,
    workflowId: uniqueId('payout-sweep-'),
    args: [{}],
  });
  expect(result.started).toBeGreaterThanOrEqual(2);
  for (const s of payees) {
    await eventually(async () => (await tdb.db('payouts').where({ seller_id: s, status: 'paid' }).first()) ?? null);
    expect(await balanceOf(tdb.db, accounts.sellerPayable(s))).toBe(0);
  }
  expect(await tdb.db('payouts').where({ seller_id: nobody }).count()).toEqual([{ count: 0 }]);
  // Running it again finds nothing more to pay for them.
  await worker.client.workflow.execute(payoutSweepWorkflow, {
    taskQueue: worker.taskQueue,
    workflowId: uniqueId('payout-sweep-'),
    args: [{}],
  });
  for (const s of payees) expect(await tdb.db('payouts').where({ seller_id: s }).count()).toEqual([{ count: 1 }]);
});

test('an outage longer than the retries: status unknown, money held in flight, same key until the bank answers', async () => {
  // A bank that accepts the first call and then is unreachable for the next 6.
  const real = new FakePayoutProvider(tdb.db);
  let calls = 0;
  const outage = {
    createPayout: async (req: Parameters<FakePayoutProvider['createPayout']>[0]) => {
      calls++;
      if (calls === 1) {
        await real.createPayout(req);
        throw new PayoutProviderUnavailableError('timeout after accepting');
      }
      if (calls <= 7) throw new PayoutProviderUnavailableError('unreachable');
      return real.createPayout(req);
    },
    getPayout: (id: string) => real.getPayout(id),
  };
  const w = await startTestWorker({ db: tdb.db, extraDeps: { payouts: outage } });
  try {
    const sellerId = await seedSeller(tdb.db);
    await credit(sellerId, 6_000);
    const payoutId = `po_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
    await tdb.db('payouts').insert({ id: payoutId, seller_id: sellerId, status: 'pending', bank_account_ref: 'ok', requested_by: 'test' });
    const handle = await w.client.workflow.start(payoutWorkflow, {
      taskQueue: w.taskQueue,
      workflowId: payoutWorkflowId(payoutId),
      args: [{ payoutId, sellerId, pollMs: 100, maxPollMs: 200 }],
    });
    await eventually(async () => (await handle.query(payoutStateQuery)).status === 'unknown');
    expect(await balanceOf(tdb.db, accounts.sellerPayoutInFlight(sellerId))).toBe(6_000);
    // The workflow shows 'unknown' a moment before its next activity records it on the row.
    await eventually(async () => (await tdb.db('payouts').where({ id: payoutId }).first()).provider_state === 'unknown');
    const state: PayoutState = await handle.result();
    expect(state.status).toBe('paid');
    expect(state.unknownRetries).toBeGreaterThanOrEqual(2);
    expect(
      await tdb
        .db('fake_provider.payouts')
        .where({ idempotency_key: `payout-${payoutId}` })
        .count(),
    ).toEqual([{ count: 1 }]);
    expect(await balanceOf(tdb.db, accounts.sellerPayoutInFlight(sellerId))).toBe(0);
    expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(0);
  } finally {
    await w.shutdown();
  }
});

describe('markSettled: staff settle a payout from the bank statement', () => {
  // A bank that takes the payout and then says `pending` until the test gives its answer, or (an
  // account starting `down`) cannot be reached at all.
  const answers = new Map<string, 'succeeded' | 'failed'>();
  const held = (p: ProviderPayout): ProviderPayout => {
    const answer = answers.get(p.bankAccount);
    if (answer === 'succeeded') return { ...p, status: 'succeeded', utr: 'BANK0UTR0000001' };
    if (answer === 'failed') return { ...p, status: 'failed', failureCode: 'beneficiary_bank_rejected' };
    return { ...p, status: 'pending' };
  };
  let w: TestWorker;
  beforeAll(async () => {
    const bank = new FakePayoutProvider(tdb.db);
    w = await startTestWorker({
      db: tdb.db,
      extraDeps: {
        payouts: {
          createPayout: async (req: Parameters<FakePayoutProvider['createPayout']>[0]) => {
            if (req.bankAccount.startsWith('down')) throw new PayoutProviderUnavailableError('bank unreachable');
            return held(await bank.createPayout(req));
          },
          getPayout: async (id: string) => held(await bank.getPayout(id)),
        },
      },
    });
  });
  afterAll(() => w.shutdown());

  async function stuckPayout(amount: number, account = `ok:${uniqueId('held')}`) {
    const sellerId = await seedSeller(tdb.db, { bank: account });
    await credit(sellerId, amount);
    const payoutId = `po_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
    await tdb
      .db('payouts')
      .insert({ id: payoutId, seller_id: sellerId, status: 'pending', bank_account_ref: account, requested_by: 'test' });
    const handle = await w.client.workflow.start(payoutWorkflow, {
      taskQueue: w.taskQueue,
      workflowId: payoutWorkflowId(payoutId),
      args: [{ payoutId, sellerId, pollMs: 50, maxPollMs: 200 }],
    });
    return { sellerId, payoutId, handle, account };
  }

  const journalKeys = async (payoutId: string) =>
    (await tdb.db('journal').where('ref_id', payoutId).orderBy('id').select('idempotency_key')).map((r) => r.idempotency_key);
  const mark = (m: Partial<PayoutMarkSettled>): PayoutMarkSettled =>
    ({ outcome: 'paid', reason: 'Statement of 3 Dec shows the credit', by: 'agent_rita', ...m }) as PayoutMarkSettled;

  test('awaiting the bank, marked paid with the UTR: finalised once, the UTR on the row; the bank answering later changes nothing', async () => {
    const { sellerId, payoutId, handle, account } = await stuckPayout(8_800);
    await eventually(async () => (await handle.query(payoutStateQuery)).status === 'awaiting_bank');
    // A mark without the statement's UTR is refused, and changes nothing.
    const noUtr = await handle.executeUpdate(payoutMarkSettledUpdate, { args: [mark({})] }).catch((err: unknown) => err);
    expect(readRejection(noUtr)).toMatchObject({ kind: 'invalid', code: 'invalid_mark', details: { fields: ['utr'] } });
    expect((await handle.query(payoutStateQuery)).status).toBe('awaiting_bank');

    const state = await handle.executeUpdate(payoutMarkSettledUpdate, { args: [mark({ utr: 'HDFCN27120312345' })] });
    expect(state).toMatchObject({ status: 'paid', utr: 'HDFCN27120312345', markedBy: { by: 'agent_rita', outcome: 'paid' } });
    expect((await handle.result()).status).toBe('paid');
    const row = await tdb.db('payouts').where({ id: payoutId }).first();
    expect(row).toMatchObject({ status: 'paid', utr: 'HDFCN27120312345', provider_state: 'marked_paid' });
    expect(await journalKeys(payoutId)).toEqual([payoutKeys.reserve(payoutId), payoutKeys.finalise(payoutId)]);
    const finalised = await tdb
      .db('journal')
      .where({ idempotency_key: payoutKeys.finalise(payoutId) })
      .first();
    expect(finalised.metadata).toMatchObject({ utr: 'HDFCN27120312345', markedFromStatement: { by: 'agent_rita' } });
    expect(await balanceOf(tdb.db, accounts.sellerPayoutInFlight(sellerId))).toBe(0);
    expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(0);

    // The bank answers afterwards (here: it says it failed): the finished payout hears nothing and books nothing.
    answers.set(account, 'failed');
    await expect(handle.signal(payoutPollNowSignal)).rejects.toThrow();
    // A mark on the finished payout is refused too.
    await expect(
      handle.executeUpdate(payoutMarkSettledUpdate, { args: [mark({ outcome: 'failed', failureCode: 'account_closed' })] }),
    ).rejects.toThrow();
    expect(await journalKeys(payoutId)).toEqual([payoutKeys.reserve(payoutId), payoutKeys.finalise(payoutId)]);
    expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(0);
    expect((await tdb.db('payouts').where({ id: payoutId }).first()).status).toBe('paid');
  });

  test('awaiting the bank, marked failed: the money is back in the payable with the failure code', async () => {
    const { sellerId, payoutId, handle } = await stuckPayout(4_400);
    await eventually(async () => (await handle.query(payoutStateQuery)).status === 'awaiting_bank');
    expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(0);
    const state = await handle.executeUpdate(payoutMarkSettledUpdate, {
      args: [mark({ outcome: 'failed', failureCode: 'account_closed', reason: 'Statement shows the credit returned' })],
    });
    expect(state).toMatchObject({ status: 'failed', failureCode: 'account_closed', utr: null });
    const row = await tdb.db('payouts').where({ id: payoutId }).first();
    expect(row).toMatchObject({ status: 'failed', failure_code: 'account_closed', provider_state: 'marked_failed', utr: null });
    expect(row.failure_message).toMatch(/bank statement.*back in your payable/);
    expect(await journalKeys(payoutId)).toEqual([payoutKeys.reserve(payoutId), payoutKeys.giveBack(payoutId)]);
    expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(4_400);
    expect(await balanceOf(tdb.db, accounts.sellerPayoutInFlight(sellerId))).toBe(0);
  });

  test('the bank unreachable (outcome unknown), marked paid: finalised without a provider payout id, no second call to the bank', async () => {
    const { sellerId, payoutId, handle } = await stuckPayout(3_300, `down:${uniqueId('b')}`);
    await eventually(async () => (await handle.query(payoutStateQuery)).status === 'unknown');
    const state = await handle.executeUpdate(payoutMarkSettledUpdate, { args: [mark({ utr: 'SBIN327120399' })] });
    expect(state).toMatchObject({ status: 'paid', utr: 'SBIN327120399', providerPayoutId: null });
    expect(await handle.result()).toMatchObject({ status: 'paid' });
    expect(await tdb.db('payouts').where({ id: payoutId }).first()).toMatchObject({ status: 'paid', utr: 'SBIN327120399' });
    expect(await balanceOf(tdb.db, accounts.sellerPayoutInFlight(sellerId))).toBe(0);
    expect(await journalKeys(payoutId)).toEqual([payoutKeys.reserve(payoutId), payoutKeys.finalise(payoutId)]);
  });

  test('a paid payout cannot be marked: the bank answered first', async () => {
    const { payoutId, handle, account } = await stuckPayout(2_200);
    await eventually(async () => (await handle.query(payoutStateQuery)).status === 'awaiting_bank');
    answers.set(account, 'succeeded');
    expect(await handle.result()).toMatchObject({ status: 'paid', utr: 'BANK0UTR0000001' });
    // The bank's own UTR is kept on the row.
    expect(await tdb.db('payouts').where({ id: payoutId }).first()).toMatchObject({ status: 'paid', utr: 'BANK0UTR0000001' });
    await expect(
      handle.executeUpdate(payoutMarkSettledUpdate, { args: [mark({ outcome: 'failed', failureCode: 'account_closed' })] }),
    ).rejects.toThrow();
    expect(await journalKeys(payoutId)).toEqual([payoutKeys.reserve(payoutId), payoutKeys.finalise(payoutId)]);
  });
});
