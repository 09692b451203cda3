import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SERVICE_RESTART } from '../../api/ws/gateway';
import { freePort, isListening } from '../../scripts/temporal-dev-server';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { testEnv } from '../support/env';
import { WsTestClient } from '../support/ws-client';
import { spawnMandi, type MandiProcess } from './mandi-process';

/** A request whose body is still arriving: in flight until `finish()` sends the rest. */
function slowRequest(port: number, body: string) {
  const half = Math.floor(body.length / 2);
  const req = http.request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/v1/auth/refresh',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  const answered = new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
    req.once('response', (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
    });
    req.once('error', reject);
  });
  req.write(body.slice(0, half));
  return { answered, finish: () => req.end(body.slice(half)) };
}

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz' }, (res) => {
      res.resume();
      resolve(false);
    });
    req.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });

/** The exit code, with what the process printed when it is not 0 (so a failure shows why). */
async function exitOf(proc: MandiProcess): Promise<number | string> {
  const code = await proc.exited;
  if (code !== 0) console.error(`exit ${code}:\n${proc.output()}`);
  return code;
}

describe('graceful shutdown on SIGTERM', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase();
  });
  afterAll(() => tdb.drop());

  const env = (port: number) => ({
    PORT: String(port),
    DATABASE_URL: tdb.url,
    TEMPORAL_ADDRESS: testEnv.temporalAddress,
    TEMPORAL_TASK_QUEUE: `shutdown-${process.pid}-${port}`,
    TEMPORAL_WORKFLOW_BUNDLE: testEnv.workflowBundlePath,
    SHUTDOWN_GRACE_SECONDS: '10',
  });

  test('the API refuses new connections, answers the request in flight, and tells WebSockets to reconnect (1012)', async () => {
    const port = await freePort();
    const api = await spawnMandi('api', env(port));
    const watcher = await WsTestClient.connect(`http://127.0.0.1:${port}`);
    const inFlight = slowRequest(port, JSON.stringify({ refreshToken: 'r'.repeat(64) }));
    // Let the server see the request's headers before the signal.
    await new Promise((r) => setTimeout(r, 300));

    const startedAt = Date.now();
    api.child.kill('SIGTERM');
    await watcher.closed();
    expect(watcher.closeCode).toBe(SERVICE_RESTART);
    expect(await refused(port)).toBe(true);
    // The process waits for the request: it has not exited yet.
    expect(api.child.exitCode).toBeNull();

    inFlight.finish();
    const answer = await inFlight.answered;
    expect(answer.status).toBeGreaterThanOrEqual(200);
    expect(answer.status).toBeLessThan(500);
    expect(answer.connection).toBe('close');
    expect(await exitOf(api)).toBe(0);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  }, 120_000);

  test('a request that never finishes is cut after the grace period, and the process still exits cleanly', async () => {
    const port = await freePort();
    const api = await spawnMandi('api', { ...env(port), SHUTDOWN_GRACE_SECONDS: '1' });
    const stuck = slowRequest(port, JSON.stringify({ refreshToken: 'r'.repeat(64) }));
    const outcome = stuck.answered.then(
      () => 'answered',
      () => 'cut',
    );
    await new Promise((r) => setTimeout(r, 300));
    const startedAt = Date.now();
    api.child.kill('SIGTERM');
    expect(await exitOf(api)).toBe(0);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(900);
    expect(await outcome).toBe('cut');
  }, 120_000);

  test('the worker drains and exits 0', async () => {
    const worker = await spawnMandi('worker', env(await freePort()));
    await worker.stop();
    expect(await exitOf(worker)).toBe(0);
    expect(worker.output()).not.toMatch(/error while stopping/);
  }, 120_000);

  test('npm start stops the Temporal dev server and the embedded Postgres it launched', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mandi-start-'));
    // As root, the embedded Postgres runs as a user of its own, which must reach its directory.
    fs.chmodSync(dataDir, 0o755);
    const [port, temporalPort, uiPort, pgPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    try {
      const all = await spawnMandi('all', {
        PORT: String(port),
        DATA_DIR: dataDir,
        DATABASE_URL: '',
        TEMPORAL_ADDRESS: '',
        TEMPORAL_DEV_PORT: String(temporalPort),
        TEMPORAL_DEV_UI_PORT: String(uiPort),
        EMBEDDED_POSTGRES_PORT: String(pgPort),
        TEMPORAL_WORKFLOW_BUNDLE: testEnv.workflowBundlePath,
      });
      expect(await isListening(temporalPort)).toBe(true);
      expect(await isListening(pgPort)).toBe(true);
      expect(all.output()).toContain(`localhost:${port}`);
      await all.stop();
      expect(await exitOf(all)).toBe(0);
      expect(await isListening(temporalPort)).toBe(false);
      expect(await isListening(pgPort)).toBe(false);
      expect(fs.existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});
