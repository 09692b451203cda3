import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type WorkerOptions } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../../activities';
import type { ActivityDeps } from '../../activities/deps';
import type { Db } from '../../db/knex';
import { FakePaymentProvider } from '../../infra/fake-payment-provider';
import { FakePayoutProvider } from '../../infra/fake-payout-provider';
import type { PaymentProvider } from '../../infra/payment-provider';
import { InMemoryPubSub, type PubSub } from '../../infra/pubsub';
import { createMandiWorker } from '../../workers/mandi-worker';
import { testEnv } from './env';

let runtimeQuietened = false;
function quietRuntime(): void {
  if (runtimeQuietened) return;
  runtimeQuietened = true;
  try {
    // Tests fail activities on purpose; only errors are worth printing.
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, console: {} } },
    });
  } catch {
    // already installed in this process
  }
}

export const testLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export async function connectClient(): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address: testEnv.temporalAddress });
  return { client: new Client({ connection }), close: () => connection.close() };
}

export interface TestWorker {
  client: Client;
  taskQueue: string;
  deps: ActivityDeps;
  shutdown(): Promise<void>;
}

export interface TestWorkerOptions {
  db: Db;
  payments?: PaymentProvider;
  pubsub?: PubSub;
  taskQueue?: string;
  tuning?: Partial<WorkerOptions>;
  /** Extra dependencies a flow's activities need (e.g. a payout provider). */
  extraDeps?: Partial<ActivityDeps>;
  /** Replaces some of the real activities with the test's wrappers of them (a fault injected, a write held back). */
  wrapActivities?: (real: Activities) => Partial<Activities>;
}

export type Activities = ReturnType<typeof createActivities>;
const withWrapped = (real: Activities, wrap: (real: Activities) => Partial<Activities>) => ({ ...real, ...wrap(real) });

/** A real worker on the run's dev server, on a task queue of its own, with real activities. */
export async function startTestWorker(options: TestWorkerOptions): Promise<TestWorker> {
  quietRuntime();
  const taskQueue = options.taskQueue ?? `test-${randomUUID()}`;
  const { client, close } = await connectClient();
  const connection = await NativeConnection.connect({ address: testEnv.temporalAddress });
  const deps: ActivityDeps = {
    db: options.db,
    pubsub: options.pubsub ?? new InMemoryPubSub(),
    payments: options.payments ?? new FakePaymentProvider(options.db, { settleDelayMs: 20 }),
    payouts: new FakePayoutProvider(options.db, { settleDelayMs: 300 }),
    logger: testLogger,
    temporal: client,
    ...options.extraDeps,
  };
  const wrap = options.wrapActivities;
  const activities = wrap ? { activities: withWrapped(createActivities(deps), wrap) } : {};
  const worker = await createMandiWorker({
    connection,
    namespace: 'default',
    taskQueue,
    deps,
    workflowBundle: { codePath: testEnv.workflowBundlePath },
    tuning: { stickyQueueScheduleToStartTimeout: '1s', shutdownGraceTime: '1s', ...activities, ...options.tuning },
  });
  const running = worker.run();
  return {
    client,
    taskQueue,
    deps,
    shutdown: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
      await close();
    },
  };
}

export const uniqueId = (prefix: string) => `${prefix}${randomUUID().replace(/-/g, '').slice(0, 16)}`;

/** Polls `probe` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
