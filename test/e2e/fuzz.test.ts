import { loadConfig } from '../../app/config';
import { signWebhook } from '../../infra/fake-payment-provider';
import { razorpaySignature } from '../../infra/razorpay/webhook';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { startTestWorker, type TestWorker } from '../support/temporal';
import type { FuzzCase } from '../support/fuzz/cases';
import { createFixtures } from '../support/fuzz/fixtures';
import { operationsOf, type OpenApiDocument } from '../support/fuzz/openapi';
import { planFor, type Plan } from '../support/fuzz/plan';
import { failureList, failures, summaryLine, writeReport, type FuzzResult } from '../support/fuzz/report';
import { controlProblemOf, describeOutcome, runCases } from '../support/fuzz/run';
import { roleFor, type Fixtures } from '../support/fuzz/seeds';
import { dbChanges, quietSnapshot, snapshotDb, workflowsOn } from '../support/fuzz/state';

/**
 * Bad input of every kind against every operation in /openapi.json: each must get a JSON 4xx,
 * write nothing and start no flow. FUZZ_SEED picks the order; FUZZ_REPORT=<file> writes every
 * failure grouped by cause.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const CONCURRENCY = 8;
// Thousands of requests from one user and one address: the limits would answer 429 long before
// the values were judged.
const RAZORPAY_WEBHOOK_SECRET = 'fuzz-razorpay-webhook-secret';
const ENV = { RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_PER_IP_PER_MINUTE: '10000000', RAZORPAY_WEBHOOK_SECRET };
const WEBHOOK_SECRET = loadConfig({ NODE_ENV: 'test', ...ENV }).PSP_WEBHOOK_SECRET;

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;
let fixtures: Fixtures;
let plan: Plan;
let result: FuzzResult;

/** The caller's token, a fresh Idempotency-Key, and for a public route (a provider's webhook) a valid signature. */
function headersFor(c: FuzzCase): Record<string, string> {
  const headers: Record<string, string> = { 'idempotency-key': `fuzz-${SEED}-${c.n}` };
  const role = roleFor(c.op);
  if (role) headers.authorization = `Bearer ${api.token(fixtures.users[role], [role])}`;
  // Signed over the exact bytes sent (HMAC takes a Buffer as well as a string), so the value, not
  // the signature, is what the webhook judges.
  else if (c.op.path === '/v1/webhooks/razorpay') {
    headers['x-razorpay-signature'] = razorpaySignature(RAZORPAY_WEBHOOK_SECRET, c.body ?? Buffer.alloc(0));
    headers['x-razorpay-event-id'] = `fuzz-${SEED}-${c.n}`;
  } else headers['x-provider-signature'] = signWebhook((c.body ?? Buffer.alloc(0)) as unknown as string, WEBHOOK_SECRET);
  return headers;
}

beforeAll(async () => {
  const started = Date.now();
  tdb = await createTestDatabase();
  worker = await startTestWorker({ db: tdb.db });
  api = await startTestApi({ db: tdb.db, temporal: worker.client, taskQueue: worker.taskQueue, env: ENV });
  const doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as OpenApiDocument;
  fixtures = await createFixtures(api, tdb.db, operationsOf(doc));
  plan = planFor(doc, fixtures, SEED);

  const before = await quietSnapshot(tdb.db);
  const runningBefore = await workflowsOn(worker.client, worker.taskQueue, { running: true });
  const since = new Date();
  const outcomes = await runCases(api.url, plan.cases, headersFor, CONCURRENCY);
  // What an accepted request set off (an activity's insert, a workflow start) lands shortly after its answer.
  await new Promise((r) => setTimeout(r, 1_500));
  const changes = dbChanges(before, await snapshotDb(tdb.db));
  const runningAfter = await workflowsOn(worker.client, worker.taskQueue, { running: true });
  const wedged = new Map([...runningAfter].filter(([id]) => !runningBefore.has(id)));
  const startedDuring = await workflowsOn(worker.client, worker.taskQueue, { since });
  // Only now, with everything measured: the valid requests may write, start flows and use up the fixtures.
  const controls = await runCases(api.url, plan.controls, headersFor, 1, controlProblemOf);
  result = { seed: SEED, seconds: (Date.now() - started) / 1000, outcomes, controls, changes, wedged, started: startedDuring };
  writeReport(result, process.env.FUZZ_REPORT);
}, 170_000);

afterAll(async () => {
  if (result) console.log(summaryLine(result));
  await api?.close();
  await worker?.shutdown();
  await tdb?.drop();
});

test('the cases cover every operation, from valid requests', () => {
  expect(plan.operations.length).toBeGreaterThan(0);
  const covered = new Set(plan.cases.map((c) => c.op.key));
  expect(plan.operations.filter((o) => !covered.has(o.key)).map((o) => o.key)).toEqual([]);
  // A seed naming a field the schema no longer has would leave that field invalid in every case.
  expect(plan.seedProblems).toEqual([]);
  // Each case changes one thing in a request that is accepted without it.
  expect(result.controls.filter((o) => o.problem).map(describeOutcome)).toEqual([]);
});

test('every bad request is answered with a JSON 4xx {error:{code,message,details}}', () => {
  if (failures(result).length > 0) throw new Error(failureList(result));
});

test('no bad request wrote a row', () => {
  if (result.changes.length === 0) return;
  const accepted = result.outcomes
    .filter((o) => o.status !== null && o.status < 400)
    .slice(0, 50)
    .map(describeOutcome);
  throw new Error(
    `rows written during the run: ${result.changes.map((c) => `${c.table} ${c.before}→${c.after}`).join(', ')}\n` +
      `accepted requests (the likely writers):\n${accepted.join('\n') || '(none: a 4xx or 5xx wrote)'}`,
  );
});

test('no bad request left a workflow running', () => {
  if (result.wedged.size === 0) return;
  throw new Error(
    `workflows started by the run and still running:\n${[...result.wedged]
      .slice(0, 50)
      .map(([id, type]) => `${type} ${id}`)
      .join('\n')}`,
  );
});
