/**
 * A Mandi worker in a process of its own, so tests can kill it with SIGKILL mid-flow.
 * Env: DATABASE_URL, MANDI_TEST_TEMPORAL_ADDRESS, MANDI_TEST_WORKFLOW_BUNDLE, TASK_QUEUE.
 * Prints "worker-ready" once polling.
 */
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { createDb } from '../../db/knex';
import { FakePaymentProvider } from '../../infra/fake-payment-provider';
import { FakePayoutProvider } from '../../infra/fake-payout-provider';
import { InMemoryPubSub } from '../../infra/pubsub';
import { createMandiWorker } from '../../workers/mandi-worker';

async function main(): Promise<void> {
  // Tests fail activities on purpose; only errors are worth printing.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, console: {} } },
  });
  const address = process.env.MANDI_TEST_TEMPORAL_ADDRESS!;
  const db = createDb(process.env.DATABASE_URL!, 20);
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  const worker = await createMandiWorker({
    connection,
    namespace: 'default',
    taskQueue: process.env.TASK_QUEUE!,
    deps: {
      db,
      pubsub: new InMemoryPubSub(),
      payments: new FakePaymentProvider(db, { settleDelayMs: 20 }),
      payouts: new FakePayoutProvider(db, { settleDelayMs: 300 }),
      logger: pino({ level: 'silent' }),
      temporal: new Client({ connection: clientConnection }),
    },
    workflowBundle: { codePath: process.env.MANDI_TEST_WORKFLOW_BUNDLE! },
    tuning: { stickyQueueScheduleToStartTimeout: '1s' },
  });
  const running = worker.run();
  console.log('worker-ready');
  await running;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
