import fs from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { PAYOUT_WORKFLOW_TYPE } from '../../contracts/payout';
import * as workflows from '../../workflows';
import { testEnv } from '../support/env';

/**
 * Running workflows must survive a deploy: every history recorded before a change to workflow
 * code (each folder under histories/, see test/support/record-histories.ts) replays on today's
 * code without non-determinism. A change that would break one is gated with `patched()`.
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

test('every recorded workflow type is covered', () => {
  const types = new Set(histories.map((h) => h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name));
  // Every workflow the worker runs, except the empty baseline the benches measure against.
  const expected = Object.entries(workflows)
    .filter(([name, value]) => typeof value === 'function' && name.endsWith('Workflow') && value !== workflows.noopWorkflow)
    .map(([name]) => name);
  expect(expected.length).toBeGreaterThanOrEqual(12);
  for (const type of expected) expect(types).toContain(type);
  // A subscription that continued as new, so the carried state is replayed too.
  expect(histories.some((h) => h.name.includes('subscriptionworkflow.continued_as_new'))).toBe(true);
});

test('a workflow type a contract names for callers that may not import workflow code is the function it means', () => {
  expect(PAYOUT_WORKFLOW_TYPE).toBe(workflows.payoutWorkflow.name);
});

test.each(histories.map((h) => [h.name, h] as const))('%s replays on the current code', async (_name, h) => {
  await Worker.runReplayHistory({ workflowBundle: { codePath: testEnv.workflowBundlePath } }, h.history, h.workflowId);
});
