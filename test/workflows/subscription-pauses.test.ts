import fs from 'node:fs';
import path from 'node:path';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { expectLedgerInvariants, type TestDatabase } from '../support/db';
import { startTestSystem, stopTestSystem } from '../support/system';
import { testEnv } from '../support/env';
import { eventually, type TestWorker } from '../support/temporal';
import {
  cancelSignal,
  cancelUpdate,
  changeQuantitySignal,
  changeQuantityUpdate,
  deliverExtraSignal,
  deliverExtraUpdate,
  exceptionAddedSignal,
  nextDeliveriesQuery,
  pauseSignal,
  pauseUpdate,
  resumeSignal,
  resumeUpdate,
  skipSignal,
  skipUpdate,
} from '../../contracts/subscription';
import {
  PRICE,
  rejectionCodes,
  fundWallet,
  testSettings,
  insertSubscription,
  journalsFor,
  notificationKinds,
  renewals,
  startSubscription,
  state,
  stop,
} from './subscription-helpers';

let tdb: TestDatabase;
let worker: TestWorker;
const recorded: WorkflowHandle[] = [];
const FIXTURE = path.join(__dirname, 'histories', 'subscription-pause-resume-cancel.json');

beforeAll(async () => ({ tdb, worker } = await startTestSystem()));
afterAll(stopTestSystem);

async function updateError(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    return rejectionCodes(err);
  }
  throw new Error('update was accepted');
}

test.concurrent('pause and early resume: the pause ends sooner, the customer is told on the new last day', async () => {
  const sub = await insertSubscription(tdb.db);
  await fundWallet(tdb.db, sub.customerId, PRICE * 2);
  const h = await startSubscription(worker, sub, testSettings({ dayMs: 2_000 }));
  recorded.push(h);
  try {
    // Bad requests are rejected by the validator and write nothing.
    // A past range is also before the subscription's start (Aug 2): the past is named first.
    expect(await updateError(h.executeUpdate(pauseUpdate, { args: [{ from: '2026-07-20', to: '2026-07-25' }] }))).toEqual([
      'range_in_past',
      'before_subscription_start',
    ]);
    expect(await updateError(h.executeUpdate(pauseUpdate, { args: [{ from: '2026-08-06', to: '2026-08-04' }] }))).toContain(
      'to_before_from',
    );
    expect(await updateError(h.executeUpdate(resumeUpdate, { args: [{}] }))).toEqual(['nothing_to_resume']);
    expect(await tdb.db('subscription_exceptions').where({ subscription_id: sub.id })).toEqual([]);

    const { exceptionId } = (await h.executeUpdate(pauseUpdate, {
      args: [{ from: '2026-08-03', to: '2026-08-08', reason: 'vacation' }],
    })) as { exceptionId: string };
    expect((await h.query(nextDeliveriesQuery, 3, '2026-08-02')).map((d) => d.date)).toEqual(['2026-08-02', '2026-08-09', '2026-08-10']);
    const resumed = (await h.executeUpdate(resumeUpdate, { args: [{ from: '2026-08-05' }] })) as { ended: string[] };
    expect(resumed.ended).toEqual([exceptionId]);
    expect((await h.query(nextDeliveriesQuery, 3, '2026-08-02')).map((d) => d.date)).toEqual(['2026-08-02', '2026-08-05', '2026-08-06']);
    const row = await tdb.db.raw(`SELECT ended_at::text AS e FROM subscription_exceptions WHERE subscription_id = ? AND id = ?`, [
      sub.id,
      exceptionId,
    ]);
    expect(row.rows[0].e).toBe('2026-08-05');
    // The subscription row follows the workflow: the next renewal moved back when the pause was shortened.
    const liveRenewal = (await state(h)).nextRenewalDate;
    await eventually(
      async () =>
        (await tdb.db.raw(`SELECT next_renewal_date::text AS d FROM subscriptions WHERE id = ?`, [sub.id])).rows[0].d === liveRenewal,
    );

    // The shortened pause's last day is Aug 4: "resuming tomorrow" is sent then (sim Aug 4 00:00, ~3 s in).
    const n = await eventually(async () => (await notificationKinds(tdb.db, sub.id)).find((x) => x.kind === 'pause_ending'), 25_000);
    expect(n.key).toBe(`subscription-${sub.id}:pause-ends-2026-08-04`);
    expect(n.data).toMatchObject({ lastPausedDay: '2026-08-04', resumesOn: '2026-08-05' });
    // Two periods only: 2 days were credited in period 1 (Aug 3, 4) → period 2 starts Aug 7.
    await eventually(async () => (await renewals(tdb.db, sub.id))[1]?.status === 'paid', 25_000);
    expect((await renewals(tdb.db, sub.id))[1].period_start).toBe('2026-08-07');
  } finally {
    await stop(h);
  }
  expect((await notificationKinds(tdb.db, sub.id)).filter((x) => x.kind === 'pause_ending')).toHaveLength(1);
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('a change retried after the run that answered it handed over gets the first answer, not a second change', async () => {
  const sub = await insertSubscription(tdb.db);
  await fundWallet(tdb.db, sub.customerId, PRICE * 10);
  const h = await startSubscription(worker, sub, testSettings({ dayMs: 2_000 }));
  /** Each paid 3-day period (6 s here) hands the subscription over to a new run, which Temporal knows no update ids of. */
  const nextRun = async () => {
    const { runId } = await h.describe();
    await eventually(async () => (await h.describe()).runId !== runId, 20_000);
  };
  try {
    const pause = () =>
      h.executeUpdate(pauseUpdate, { updateId: 'pause-key-1', args: [{ from: '2026-08-28', to: '2026-09-02', reason: 'vacation' }] });
    const first = (await pause()) as { exceptionId: string };
    await nextRun();
    expect(await pause()).toEqual(first);
    expect(await tdb.db('subscription_exceptions').where({ subscription_id: sub.id }).pluck('id')).toEqual([first.exceptionId]);

    const resume = () => h.executeUpdate(resumeUpdate, { updateId: 'resume-key-1', args: [{ from: '2026-08-30' }] });
    expect(await resume()).toEqual({ ended: [first.exceptionId] });
    await nextRun();
    // Applied again it would be refused as nothing_to_resume; answered again it says what it ended.
    expect(await resume()).toEqual({ ended: [first.exceptionId] });
    // A new id is a new request, judged on today's state.
    expect(await updateError(h.executeUpdate(resumeUpdate, { updateId: 'resume-key-2', args: [{ from: '2026-08-30' }] }))).toEqual([
      'nothing_to_resume',
    ]);
    expect((await state(h)).exceptions).toHaveLength(1);
    // The run that answered from the carried ids replays as it ran.
    await Worker.runReplayHistory({ workflowBundle: { codePath: testEnv.workflowBundlePath } }, await h.fetchHistory());
  } finally {
    await stop(h);
  }
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('cancel during a pause: the workflow ends, nothing more is charged or sent', async () => {
  const sub = await insertSubscription(tdb.db);
  await fundWallet(tdb.db, sub.customerId, PRICE * 3);
  const h = await startSubscription(worker, sub, testSettings({ dayMs: 2_000 }));
  recorded.push(h);
  await h.executeUpdate(pauseUpdate, { args: [{ from: '2026-08-03', to: '2026-08-10', reason: 'vacation' }] });
  await h.signal(deliverExtraSignal, { date: '2026-08-04', quantity: 2 });
  await eventually(async () => (await state(h)).flowStatus === 'paused', 10_000);
  const cancelled = (await h.executeUpdate(cancelUpdate, { args: [{ reason: 'moving out' }] })) as { cancelledFrom: string };
  const result = (await h.result()) as { flowStatus: string; cancelledFrom: string };
  expect(result.flowStatus).toBe('cancelled');
  expect(result.cancelledFrom).toBe(cancelled.cancelledFrom);
  const row = await tdb.db.raw(`SELECT status, cancelled_from::text AS cf, billing_state FROM subscriptions WHERE id = ?`, [sub.id]);
  expect(row.rows[0]).toEqual({ status: 'cancelled', cf: cancelled.cancelledFrom, billing_state: 'ended' });
  await new Promise((r) => setTimeout(r, 1_500));
  expect(await journalsFor(tdb.db, sub.id)).toEqual([`subscription-${sub.id}:renewal-1:attempt-1`]);
  expect(await notificationKinds(tdb.db, sub.id)).toEqual([]);
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('signals from the CLI/UI are validated too: an invalid one changes nothing and is visible to support', async () => {
  const sub = await insertSubscription(tdb.db);
  await fundWallet(tdb.db, sub.customerId, PRICE);
  const h = await startSubscription(worker, sub, testSettings({ dayMs: 2_000 }));
  recorded.push(h);
  try {
    await h.signal(pauseSignal, { from: '2026-07-01', to: '2026-07-02', reason: 'vacation', createdBy: 'support:asha' });
    await h.signal(skipSignal, { from: '2026-08-05', to: '2026-08-05', createdBy: 'support:asha' });
    await h.signal(changeQuantitySignal, { from: '2026-08-06', to: '2026-08-07', quantity: 3 });
    const s = await eventually(async () => {
      const v = await state(h);
      return v.exceptions.length === 2 ? v : null;
    });
    expect(s.lastRejected).toMatchObject({ request: 'pause', codes: ['range_in_past', 'before_subscription_start'] });
    expect(s.exceptions.map((e) => [e.type, e.reason, e.createdBy])).toEqual([
      ['skip', 'special_request', 'support:asha'],
      ['change_quantity', 'special_request', `customer:${sub.customerId}`],
    ]);
    const next = await h.query(nextDeliveriesQuery, 6, '2026-08-02');
    expect(next.map((d) => [d.date, d.quantity])).toEqual([
      ['2026-08-02', 1],
      ['2026-08-03', 1],
      ['2026-08-04', 1],
      ['2026-08-06', 3],
      ['2026-08-07', 3],
      ['2026-08-08', 1],
    ]);
  } finally {
    await stop(h);
  }
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('far dates sent as signals (CLI) are rejections support can see, never failed workflow tasks', async () => {
  const sub = await insertSubscription(tdb.db);
  await fundWallet(tdb.db, sub.customerId, PRICE);
  const h = await startSubscription(worker, sub, testSettings({ dayMs: 2_000 }));
  try {
    const far: [AnySignal, unknown][] = [
      [pauseSignal, { from: '9999-12-31', to: null, reason: 'vacation' }],
      [skipSignal, { from: '2026-08-05', to: '9999-12-31' }],
      [deliverExtraSignal, { date: '9999-12-31', quantity: 1 }],
      [changeQuantitySignal, { from: '2026-08-05', to: '2100-12-31', quantity: 2 }],
      [resumeSignal, { from: '9999-12-31' }],
      [cancelSignal, { from: '9999-12-31' }],
    ];
    for (const [signal, arg] of far) {
      await send(h, signal, arg);
      const s = await eventually(async () => {
        const v = await state(h);
        return v.lastRejected?.request === signal.name ? v : null;
      });
      expect(s.lastRejected?.codes).toEqual(['too_far_ahead']);
    }
    expect(
      await updateError(h.executeUpdate(pauseUpdate, { args: [{ from: '2026-08-05', to: '2027-08-12', reason: 'vacation' }] })),
    ).toEqual(['too_far_ahead']);
    // Nothing was recorded, and the flow still takes a good request and is not cancelled.
    expect(await tdb.db('subscription_exceptions').where({ subscription_id: sub.id })).toEqual([]);
    const ok = (await h.executeUpdate(skipUpdate, { args: [{ from: '2026-08-06', to: '2026-08-06' }] })) as { exceptionId: string };
    expect(ok.exceptionId).toBe('E1');
    expect((await state(h)).cancelledFrom).toBeNull();
    const history = await h.fetchHistory();
    const failedTasks = history.events!.filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    expect(failedTasks).toEqual([]);
  } finally {
    await stop(h);
  }
  await expectLedgerInvariants(tdb.db);
});

/** Any of the subscription's signals: the tests send them payloads of their choosing (valid or not). */
type AnySignal = Pick<SignalDefinition, 'name'>;
const send = (h: WorkflowHandle, signal: AnySignal, arg: unknown) => h.signal(signal as unknown as SignalDefinition<[unknown]>, arg);

/** Sends a signal (the CLI's way) and returns the rejection support then sees. */
async function rejectedSignal(h: WorkflowHandle, signal: AnySignal, arg: unknown) {
  await send(h, signal, arg);
  const s = await eventually(async () => {
    const v = await state(h);
    return v.lastRejected?.request === signal.name && v.lastRejected.at !== seen.get(h.workflowId) ? v : null;
  });
  seen.set(h.workflowId, s.lastRejected!.at);
  return s.lastRejected!.codes;
}
const seen = new Map<string, string>();

async function failedTasks(h: WorkflowHandle) {
  const history = await h.fetchHistory();
  return history.events!.filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
}

test.concurrent(
  "changes stay within the subscription's life and reasons come from one list; a cancel may come before the start",
  async () => {
    const sub = await insertSubscription(tdb.db, { startDate: '2026-08-10', endDate: '2026-08-20' });
    await fundWallet(tdb.db, sub.customerId, PRICE);
    const h = await startSubscription(worker, sub, testSettings({ dayMs: 5_000 }));
    try {
      expect(
        await rejectedSignal(h, pauseSignal, { from: '2026-08-05', to: '2026-08-06', reason: 'vacation', createdBy: 'support:asha' }),
      ).toEqual(['before_subscription_start']);
      expect(await rejectedSignal(h, deliverExtraSignal, { date: '2026-08-21', quantity: 1 })).toEqual(['after_subscription_end']);
      expect(
        await rejectedSignal(h, changeQuantitySignal, { from: '2026-08-12', to: '2026-08-13', quantity: 2, reason: 'vacation' }),
      ).toEqual(['invalid_reason']);
      expect(await updateError(h.executeUpdate(skipUpdate, { args: [{ from: '2026-08-18', to: '2026-08-25' }] }))).toEqual([
        'after_subscription_end',
      ]);
      expect(
        await updateError(h.executeUpdate(changeQuantityUpdate, { args: [{ from: '2026-08-05', to: '2026-08-12', quantity: 2 }] })),
      ).toEqual(['before_subscription_start']);
      expect(
        await updateError(h.executeUpdate(deliverExtraUpdate, { args: [{ date: '2026-08-11', quantity: 1, reason: 'holiday' }] })),
      ).toEqual(['invalid_reason']);
      expect(
        await updateError(h.executeUpdate(pauseUpdate, { args: [{ from: '2026-08-12', to: null, reason: 'payment_failure' }] })),
      ).toEqual(['invalid_reason']);
      expect(await tdb.db('subscription_exceptions').where({ subscription_id: sub.id })).toEqual([]);

      // The same lists accept what the API accepts.
      await h.executeUpdate(deliverExtraUpdate, { args: [{ date: '2026-08-11', quantity: 1, reason: 'special_request' }] });
      await h.executeUpdate(skipUpdate, { args: [{ from: '2026-08-12', to: '2026-08-12', reason: 'holiday' }] });
      // Cancelling before the first delivery is allowed: only the end bounds a cancel.
      const cancelled = (await h.executeUpdate(cancelUpdate, { args: [{ from: '2026-08-05' }] })) as { cancelledFrom: string };
      expect(cancelled.cancelledFrom).toBe('2026-08-05');
      expect(await h.result()).toMatchObject({ flowStatus: 'cancelled', cancelledFrom: '2026-08-05' });
      expect(await failedTasks(h)).toEqual([]);
    } finally {
      await stop(h);
    }
    await expectLedgerInvariants(tdb.db);
  },
);

test.concurrent(
  'an exceptionAdded with dates the timeline cannot use is ignored and shown to support; the flow stays healthy',
  async () => {
    const sub = await insertSubscription(tdb.db);
    await fundWallet(tdb.db, sub.customerId, PRICE);
    const h = await startSubscription(worker, sub, testSettings({ dayMs: 5_000 }));
    const holiday = (date: string) => ({
      id: `H-${date}`,
      type: 'skip',
      from: date,
      to: date,
      reason: 'holiday',
      createdBy: 'system:holiday',
      createdAt: '2026-08-01T00:00:00.000Z',
    });
    try {
      expect(await rejectedSignal(h, exceptionAddedSignal, holiday('9999-12-31'))).toEqual(['too_far_ahead']);
      expect(await rejectedSignal(h, exceptionAddedSignal, holiday('1900-01-01'))).toEqual(['date_out_of_range']);
      expect(await rejectedSignal(h, exceptionAddedSignal, holiday('2026-02-30'))).toEqual(['invalid_from', 'invalid_to']);
      expect(await rejectedSignal(h, exceptionAddedSignal, { ...holiday('2026-08-06'), to: '2026-08-05' })).toEqual(['to_before_from']);
      // A real holiday still lands, and the flow answers and takes changes as before.
      await send(h, exceptionAddedSignal, holiday('2026-08-05'));
      const s = await eventually(async () => {
        const v = await state(h);
        return v.exceptions.length === 1 ? v : null;
      });
      expect(s.exceptions[0]).toMatchObject({ id: 'H-2026-08-05', from: '2026-08-05' });
      expect(['active', 'paused']).toContain(s.flowStatus);
      const next = await h.query(nextDeliveriesQuery, 4, '2026-08-03');
      expect(next.map((d) => d.date)).toEqual(['2026-08-03', '2026-08-04', '2026-08-06', '2026-08-07']);
      expect(
        ((await h.executeUpdate(skipUpdate, { args: [{ from: '2026-08-07', to: '2026-08-07' }] })) as { exceptionId: string }).exceptionId,
      ).toBe('E1');
      expect(await failedTasks(h)).toEqual([]);
    } finally {
      await stop(h);
    }
    await expectLedgerInvariants(tdb.db);
  },
);

test('recorded histories replay without non-determinism (live runs and the committed fixture)', async () => {
  await eventually(async () => recorded.length === 3);
  const histories = await Promise.all(recorded.map(async (h) => ({ workflowId: h.workflowId, history: await h.fetchHistory() })));
  if (process.env.RECORD_SUBSCRIPTION_HISTORY) {
    fs.writeFileSync(FIXTURE, JSON.stringify(histories[1].history));
  }
  for await (const r of Worker.runReplayHistories({ workflowBundle: { codePath: testEnv.workflowBundlePath } }, histories)) {
    expect(r.error).toBeUndefined();
  }
  // Stored as protobuf JSON (JSON.stringify of the fetched History); fromObject turns it back.
  const fixture = temporal.api.history.v1.History.fromObject(JSON.parse(fs.readFileSync(FIXTURE, 'utf8')));
  await Worker.runReplayHistory({ workflowBundle: { codePath: testEnv.workflowBundlePath } }, fixture, 'subscription-fixture');
});
