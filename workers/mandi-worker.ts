import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { ActivityDeps } from '../activities/deps';

export interface MandiWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A pre-built bundle (tests build one per run); otherwise the worker bundles workflows/ itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Overrides for tests, e.g. a short sticky-queue timeout so a killed worker is noticed fast. */
  tuning?: Partial<WorkerOptions>;
}

/** One worker runs every flow's workflows and activities on the task queue. */
export async function createMandiWorker(options: MandiWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities(options.deps),
    // Long-running market engines hold an activity slot each; leave room for the rest.
    maxConcurrentActivityTaskExecutions: 200,
    shutdownGraceTime: '10s',
    ...options.tuning,
  });
}
