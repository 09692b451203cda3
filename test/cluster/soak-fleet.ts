import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import knex from 'knex';
import { clusterHandle, clusterUp, type Cluster } from '../../scripts/cluster/cluster';
import { installTemporalServer } from '../../scripts/cluster/install';
import { defaultClusterOptions, MAX_PORT_BASE, portsFromBase } from '../../scripts/cluster/options';
import { dropDatabases } from '../../scripts/cluster/schema';
import { isListening } from '../../scripts/cluster/services';
import { freePort } from '../../scripts/temporal-dev-server';
import { createDb, migrateLatest, type Db } from '../../db/knex';
import { spawnMandi, type MandiProcess } from './mandi-process';

/** Everything the soak runs: a 4-process Temporal cluster, its own Redis, 2 API and 2 worker processes. */
export interface Fleet {
  cluster: Cluster;
  db: Db;
  databaseUrl: string;
  redisPort: number;
  apiUrls: string[];
  apis: MandiProcess[];
  workers: MandiProcess[];
  restartApi(i: number): Promise<void>;
  restartWorker(i: number): Promise<void>;
  teardown(): Promise<void>;
}

const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const withDatabase = (name: string) => {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
};

/** Nine ports in Temporal's layout (see portsFromBase) that nothing listens on. */
async function freePortBase(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20_000 + Math.floor(Math.random() * (MAX_PORT_BASE - 20_000));
    const ports = Object.values(portsFromBase(base)).flatMap((p) => (typeof p === 'number' ? [p] : [p.grpc, p.membership]));
    const busy = await Promise.all(ports.map((p) => isListening(p)));
    if (!busy.some(Boolean)) return base;
  }
  throw new Error('no free block of ports for the cluster');
}

/**
 * A Redis of the soak's own, so pausing it (CLIENT PAUSE) disturbs nobody else using the
 * machine's Redis. Started like the machine's: nothing kept on disk.
 */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100 && !(await isListening(port)); i++) await new Promise((r) => setTimeout(r, 50));
  return child;
}

export async function startFleet(runId: string, log: (line: string) => void): Promise<Fleet> {
  const stops: Array<() => Promise<unknown>> = [];
  const teardown = async () => {
    for (const fn of stops.reverse()) await fn().catch((err) => log(`teardown: ${String(err)}`));
  };
  try {
    const dbName = `mandi_soak_${runId}`;
    const admin = knex({ client: 'pg', connection: ADMIN_URL, pool: { min: 0, max: 1 } });
    await admin.raw(`DROP DATABASE IF EXISTS ${dbName}`);
    await admin.raw(`CREATE DATABASE ${dbName}`);
    await admin.destroy();
    const databaseUrl = withDatabase(dbName);
    const db = createDb(databaseUrl, 10);
    stops.push(async () => {
      await db.destroy();
      const a = knex({ client: 'pg', connection: ADMIN_URL, pool: { min: 0, max: 1 } });
      await a.raw(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).finally(() => a.destroy());
    });
    // Migrated once here: four processes migrating at once would fight over knex's migration lock.
    await migrateLatest(db);

    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mandi-soak-cluster-'));
    const options = defaultClusterOptions({
      stateDir,
      databaseUrl: ADMIN_URL,
      databaseName: `mandi_soak_temporal_${runId}`,
      visibilityDatabaseName: `mandi_soak_temporal_vis_${runId}`,
      ports: portsFromBase(await freePortBase()),
      // Four services and four Mandi processes share one Postgres (100 connections by default).
      maxConns: 6,
    });
    const started = Date.now();
    // Registered before `up`, so a cluster that fails half-way is stopped and dropped too.
    const handle = clusterHandle(options, installTemporalServer());
    stops.push(async () => {
      await handle.down();
      await dropDatabases(handle.tools, options);
      fs.rmSync(stateDir, { recursive: true, force: true });
    });
    const cluster = await clusterUp(options, (line) => log(`cluster: ${line}`));
    log(`cluster up in ${Date.now() - started} ms at ${cluster.address}`);

    const redisPort = await freePort();
    const redis = await startRedis(redisPort);
    stops.push(async () => {
      redis.kill('SIGKILL');
    });

    // One workflow bundle for every worker start (a restart then takes a second, not a bundling).
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../../workflows'),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never,
    });
    const bundlePath = path.join(os.tmpdir(), `mandi-soak-workflows-${runId}.js`);
    fs.writeFileSync(bundlePath, code);
    stops.push(async () => fs.rmSync(bundlePath, { force: true }));

    const env = {
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_MAX: '6',
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      TEMPORAL_ADDRESS: cluster.address,
      TEMPORAL_NAMESPACE: options.namespace,
      TEMPORAL_WORKFLOW_BUNDLE: bundlePath,
      CHECKOUT_RETURN_WINDOW_SECONDS: '15',
      CHECKOUT_DELIVERY_DEADLINE_SECONDS: '600',
      RATE_LIMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_PER_IP_PER_MINUTE: '1000000',
      // Longer than the longest request (checkout?wait=true answers within 10 s), as a deploy should set it.
      SHUTDOWN_GRACE_SECONDS: '12',
      // A retry takes over the claim of an instance killed mid-request after this long (30 s by default).
      IDEMPOTENCY_CLAIM_LEASE_SECONDS: '10',
    };
    const apiPorts = [await freePort(), await freePort()];
    const apiUrls = apiPorts.map((p) => `http://127.0.0.1:${p}`);
    const startApi = (i: number) => spawnMandi('api', { ...env, PORT: String(apiPorts[i]) });
    const startWorker = () => spawnMandi('worker', { ...env, PORT: '0' });
    const workers = await Promise.all([startWorker(), startWorker()]);
    const apis = await Promise.all([startApi(0), startApi(1)]);
    stops.push(async () => {
      await Promise.all([...apis, ...workers].map((p) => p.stop()));
    });
    log(`mandi: 2 workers, 2 APIs (${apiUrls.join(', ')})`);

    return {
      cluster,
      db,
      databaseUrl,
      redisPort,
      apiUrls,
      apis,
      workers,
      restartApi: async (i) => {
        await apis[i].kill();
        apis[i] = await startApi(i);
      },
      restartWorker: async (i) => {
        await workers[i].kill();
        workers[i] = await startWorker();
      },
      teardown,
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}
