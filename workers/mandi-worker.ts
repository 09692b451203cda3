import { type NativeConnection, type State, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { ActivityDeps } from '../activities/deps';
import { createMarketEngineActivities } from '../activities/market-engine';
import { marketEngineTaskQueue } from '../contracts/market';

/**
 * Activity slots. Every flow's steps (payments, ledger postings, settlement batches…) are short:
 * they take a slot for milliseconds to seconds, and 200 at once is more than the Postgres pool can
 * serve anyway. A market engine is the opposite: it holds its slot for the whole trading window,
 * idle or not. Sharing one budget, a hundred open markets would take a hundred slots for hours and
 * enough of them would leave none for a top-up. So engines run on a task queue of their own
 * (contracts/market.ts#marketEngineTaskQueue), served by a second worker in the same process with
 * its own budget: engines never take a step's slot, and a full engine budget delays only the next
 * engine. Idle, an engine costs a pending promise, a Redis subscription and a place in the shared
 * fallback poll (activities/market-engine.ts), and busy, the process's engines read and commit
 * together (one statement for all the batches ready at once, db/market-engine-store.ts), so the
 * budget is set by memory and by how many busy markets one process's single thread can match — not
 * by Postgres connections or transactions. Past it, the next market's
 * engine waits in the queue (its orders are accepted, not matched): run another worker process,
 * which polls the same queues.
 */
export const DEFAULT_ACTIVITY_SLOTS = 200;
export const DEFAULT_MARKET_ENGINE_SLOTS = 500;

export interface MandiWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** A pre-built bundle (tests build one per run); otherwise the worker bundles workflows/ itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Overrides for tests, e.g. a short sticky-queue timeout so a killed worker is noticed fast. */
  tuning?: Partial<WorkerOptions>;
  /** Market engines this process runs at once (MARKET_ENGINE_SLOTS). */
  marketEngineSlots?: number;
  /** How often this process's engines look at Postgres when no wake-up came (MARKET_ENGINE_FALLBACK_POLL_MS, ≥ 1 s). */
  marketEngineFallbackPollMs?: number;
}

/** The process's workers, run and stopped together. */
export interface MandiWorker {
  run(): Promise<void>;
  shutdown(): void;
  /** RUNNING while either still runs. */
  getState(): State;
}

/**
 * One worker runs every flow's workflows and steps on the task queue; a second, in the same
 * process and on the same connection, runs the market engines on theirs (see the slots above).
 * Markets started before engines had their own queue still run theirs on the main one, which
 * therefore keeps the engine activity registered.
 */
export async function createMandiWorker(options: MandiWorkerOptions): Promise<MandiWorker> {
  const main = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities(options.deps),
    maxConcurrentActivityTaskExecutions: DEFAULT_ACTIVITY_SLOTS,
    shutdownGraceTime: '10s',
    ...options.tuning,
  });
  const engines = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: marketEngineTaskQueue(options.taskQueue),
    activities: createMarketEngineActivities(options.deps, { fallbackPollMs: options.marketEngineFallbackPollMs }),
    shutdownGraceTime: '10s',
    ...options.tuning,
    maxConcurrentActivityTaskExecutions: options.marketEngineSlots ?? DEFAULT_MARKET_ENGINE_SLOTS,
  });
  const workers = [main, engines];
  const shutdown = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    run: async () => {
      const runs = workers.map((w) => w.run().finally(shutdown));
      const results = await Promise.allSettled(runs);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    shutdown,
    getState: () => (workers.some((w) => w.getState() === 'RUNNING') ? 'RUNNING' : main.getState()),
  };
}
