import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { CHECKOUT_SAGA_REVISION } from '../../contracts/checkout';
import { PAYOUT_WORKFLOW_TYPE } from '../../contracts/payout';
import * as workflows from '../../workflows';
import { testEnv } from '../support/env';

/**
 * Running workflows must survive a deploy: every history recorded before a change to workflow
 * code (each folder under histories/, see test/support/record-histories.ts) replays on today's
 * code without non-determinism. A change that would break one is gated with `patched()`.
 *
 * This, not Worker Versioning, is how a deploy stays safe (README, "Running in production"): the
 * flows run for weeks to months (subscriptions for their whole life through continue-as-new,
 * checkouts through delivery and the return window, markets until resolved), so pinning them to
 * the build that started them would keep every old build running that long, and auto-upgrading
 * them to the new build needs exactly this replay guarantee anyway.
 */
const HISTORIES = path.join(__dirname, 'histories');

function recorded(): Array<{ name: string; workflowId: string; history: temporal.api.history.v1.History }> {
  const files = fs
    .readdirSync(HISTORIES, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .sort();
  return files.map((file) => {
    const stored = JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8'));
    // A bare History (older fixtures) or `{ workflowId, history }`.
    const history = stored.history ?? stored;
    return { name: file, workflowId: stored.workflowId ?? file, history: temporal.api.history.v1.History.fromObject(history) };
  });
}

const histories = recorded();

test('every workflow type the worker runs has recorded histories', () => {
  const types = new Set(histories.map((h) => h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name));
  // The worker registers every function workflows/index.ts exports (workers/mandi-worker.ts bundles
  // that module), so each is a type a deploy can meet mid-run: none is exempt, the benches' empty
  // baseline included. A new type fails here until its histories are recorded.
  const registered = Object.entries(workflows)
    .filter(([, value]) => typeof value === 'function')
    .map(([name]) => name);
  expect(registered.length).toBeGreaterThanOrEqual(16);
  expect(registered.filter((type) => !types.has(type))).toEqual([]);
  // A subscription that continued as new, so the carried state is replayed too.
  expect(histories.some((h) => h.name.includes('subscriptionworkflow.continued_as_new'))).toBe(true);
});

test('a workflow type a contract names for callers that may not import workflow code is the function it means', () => {
  expect(PAYOUT_WORKFLOW_TYPE).toBe(workflows.payoutWorkflow.name);
});

test.each(histories.map((h) => [h.name, h] as const))('%s replays on the current code', async (_name, h) => {
  await Worker.runReplayHistory({ workflowBundle: { codePath: testEnv.workflowBundlePath } }, h.history, h.workflowId);
});

/**
 * A deploy rolls: the new API can start a checkout with its saga revision while a worker of the
 * code before (which ignores the field and asks `patched()`) runs its first task, recording the
 * patch markers and their TemporalChangeVersion upserts. Today's code, which asks nothing of a run
 * with the revision, must still replay such a history.
 */
test.each(histories.filter((h) => h.name.startsWith('checkout-place-in-one-step/checkoutworkflow')).map((h) => [h.name, h] as const))(
  '%s replays with the saga revision in its input, its patch markers unasked',
  async (_name, h) => {
    const history = temporal.api.history.v1.History.decode(temporal.api.history.v1.History.encode(h.history).finish());
    const payload = history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0];
    const input = JSON.parse(Buffer.from(payload.data!).toString());
    expect(input.sagaRevision).toBeUndefined();
    payload.data = Buffer.from(JSON.stringify({ ...input, sagaRevision: CHECKOUT_SAGA_REVISION }));
    const patchMarkers = history.events!.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
    expect(patchMarkers.length).toBeGreaterThanOrEqual(1);
    await Worker.runReplayHistory({ workflowBundle: { codePath: testEnv.workflowBundlePath } }, history, h.workflowId);
  },
);
