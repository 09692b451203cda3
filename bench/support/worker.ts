import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import type { Db } from '../../db/knex';
import { FakePaymentProvider } from '../../infra/fake-payment-provider';
import { RedisPubSub } from '../../infra/pubsub';
import { createMandiWorker } from '../../workers/mandi-worker';

/**
 * The Mandi worker in the bench's own process, on the given dev server and task queue, with Redis
 * pub/sub (so an API in another process sees what it publishes). Each thing it opens is pushed onto
 * `cleanups`, to be closed newest first.
 */
export async function startBenchWorker(o: {
  db: Db;
  address: string;
  taskQueue: string;
  redisUrl: string;
  cleanups: Array<() => Promise<void> | void>;
}): Promise<{ pubsub: RedisPubSub; client: Client }> {
  const pubsub = new RedisPubSub(o.redisUrl);
  o.cleanups.push(() => pubsub.close());
  const clientConn = await Connection.connect({ address: o.address });
  o.cleanups.push(() => clientConn.close());
  const client = new Client({ connection: clientConn });
  const nativeConn = await NativeConnection.connect({ address: o.address });
  const worker = await createMandiWorker({
    connection: nativeConn,
    namespace: 'default',
    taskQueue: o.taskQueue,
    deps: { db: o.db, pubsub, payments: new FakePaymentProvider(o.db), logger: pino({ level: 'silent' }), temporal: client },
  });
  const running = worker.run();
  o.cleanups.push(async () => {
    worker.shutdown();
    await running;
    await nativeConn.close();
  });
  return { pubsub, client };
}
