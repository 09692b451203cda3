import { startTestApi, type TestApi } from './api';
import { createTestDatabase, type TestDatabase } from './db';
import { startTestWorker, type TestWorker } from './temporal';

export interface TestSystem {
  tdb: TestDatabase;
  worker: TestWorker;
  api: TestApi;
}

// Jest loads modules afresh for each test file, so this is the current file's system.
let current: Partial<TestSystem> = {};

/**
 * A test file's own system: an isolated database, a real worker on its own task queue and the real
 * HTTP API on top. `beforeAll(async () => ({ tdb, worker } = await startTestSystem()))`,
 * `afterAll(stopTestSystem)`.
 */
export async function startTestSystem(): Promise<TestSystem> {
  current = {};
  current.tdb = await createTestDatabase();
  current.worker = await startTestWorker({ db: current.tdb.db });
  current.api = await startTestApi({ db: current.tdb.db, temporal: current.worker.client, taskQueue: current.worker.taskQueue });
  return current as TestSystem;
}

/** Stops what startTestSystem started, newest first, whatever got started before a failure. */
export async function stopTestSystem(): Promise<void> {
  const { api, worker, tdb } = current;
  current = {};
  await api?.close();
  await worker?.shutdown();
  await tdb?.drop();
}
