import { Client, Connection } from '@temporalio/client';
import knex, { type Knex } from 'knex';
import { unavailableDependency, whenReachable } from '../../app/unavailable';
import { startTestApi, type TestApi } from '../support/api';
import { startTestSystem, stopTestSystem } from '../support/system';
import type { TestDatabase } from '../support/db';
import { uniqueId, type TestWorker } from '../support/temporal';

/**
 * A service the API needs being away for a moment is not a bug in the request or in Mandi: the
 * answer is a 503 with Retry-After, so clients retry (with the same Idempotency-Key) rather than
 * give up, and operators' 500 alerts stay for real faults. The cluster soak found a full Postgres
 * ("too many clients") answered as a 500.
 */
let tdb: TestDatabase;
let worker: TestWorker;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => ({ tdb, worker } = await startTestSystem()));
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await stopTestSystem();
});

async function apiWith(db: Knex, temporal = worker.client): Promise<TestApi> {
  const api = await startTestApi({ db, temporal, taskQueue: worker.taskQueue, env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  closers.push(() => api.close());
  return api;
}

function expectUnavailable(res: { status: number; body: any; headers: Headers }) {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('1');
  expect(res.body.error).toMatchObject({ code: 'service_unavailable', details: {} });
}

/** A real refusal with the server's own SQLSTATE 53300: a role whose connection limit is reached. */
async function fullDatabase(): Promise<{ db: Knex; role: string }> {
  const role = uniqueId('mandi_full_');
  await tdb.db.raw(`CREATE ROLE ?? LOGIN CONNECTION LIMIT 0`, [role]);
  closers.push(() => tdb.db.raw(`DROP ROLE IF EXISTS ??`, [role]));
  const url = new URL(tdb.url);
  url.username = role;
  url.password = '';
  const db = knex({ client: 'pg', connection: url.toString(), pool: { min: 0, max: 2 }, acquireConnectionTimeout: 5_000 });
  closers.push(() => db.destroy());
  return { db, role };
}

test('Postgres refusing connections (too many clients) answers 503 with Retry-After, not 500', async () => {
  const { db: full } = await fullDatabase();
  const api = await apiWith(full);
  const userId = uniqueId('u');
  expectUnavailable(await api.request('GET', '/v1/wallet', { token: api.token(userId) }));
});

test('Postgres not listening answers 503', async () => {
  const gone = knex({
    client: 'pg',
    connection: 'postgres://postgres@127.0.0.1:1/none',
    pool: { min: 0, max: 2 },
    acquireConnectionTimeout: 5_000,
  });
  closers.push(() => gone.destroy());
  const api = await apiWith(gone);
  expectUnavailable(await api.request('GET', '/v1/wallet', { token: api.token(uniqueId('u')) }));
});

test('Temporal unreachable: a top-up answers 503, writes nothing, and the same key works once it is back', async () => {
  // Without the client's retry interceptor, so the refusal answers at once (the API's client retries for ~20 s first).
  const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 1_000, interceptors: [] });
  const deadTemporal = new Client({ connection });
  closers.push(() => connection.close());
  const away = await apiWith(tdb.db, deadTemporal);
  const userId = uniqueId('u');
  const key = uniqueId('k');
  const body = { amount: 50_000, paymentMethod: 'pm_ok' };
  expectUnavailable(await away.request('POST', '/v1/wallet/topups', { token: away.token(userId), body, idempotencyKey: key }));
  expect(await tdb.db('topups').where({ user_id: userId })).toEqual([]);

  const back = await apiWith(tdb.db);
  const retried = await back.request('POST', '/v1/wallet/topups', { token: back.token(userId), body, idempotencyKey: key });
  expect(retried.status).toBe(202);
  expect(await tdb.db('topups').where({ user_id: userId })).toHaveLength(1);
});

describe('whenReachable (a process starting while Postgres is full)', () => {
  const quiet = { warn: () => undefined };

  test('tries again until Postgres takes the connection', async () => {
    const { db, role } = await fullDatabase();
    // A knex query runs only once awaited (or then-ed).
    setTimeout(() => tdb.db.raw(`ALTER ROLE ?? CONNECTION LIMIT 5`, [role]).then(() => undefined), 700);
    const started = Date.now();
    const { rows } = await whenReachable('test', () => db.raw('SELECT 1 AS one'), quiet, 10_000);
    expect(rows).toEqual([{ one: 1 }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  test('gives up after its time, with the refusal', async () => {
    const { db } = await fullDatabase();
    await expect(whenReachable('test', () => db.raw('SELECT 1'), quiet, 500)).rejects.toMatchObject({ code: '53300' });
  });

  test('any other error is thrown at once', async () => {
    let tries = 0;
    const failing = () => {
      tries++;
      return tdb.db.raw('SELECT * FROM no_such_table');
    };
    await expect(whenReachable('test', failing, quiet, 10_000)).rejects.toMatchObject({ code: '42P01' });
    expect(tries).toBe(1);
  });
});

describe('unavailableDependency', () => {
  test('names Postgres connection refusals by SQLSTATE, and the pool running out of time', () => {
    expect(unavailableDependency(Object.assign(new Error('sorry, too many clients already'), { code: '53300', severity: 'FATAL' }))).toBe(
      'database',
    );
    expect(
      unavailableDependency(Object.assign(new Error('the database system is starting up'), { code: '57P03', severity: 'FATAL' })),
    ).toBe('database');
    expect(unavailableDependency(Object.assign(new Error('timeout'), { name: 'KnexTimeoutError' }))).toBe('database');
  });

  test('looks through causes, and leaves every other error alone', () => {
    const grpc = (code: number) => Object.assign(new Error(`${code}`), { code, details: 'no connection', metadata: {} });
    expect(unavailableDependency(new Error('Failed to start workflow', { cause: grpc(14) }))).toBe('workflow engine');
    // NOT_FOUND or INVALID_ARGUMENT from Temporal is an answer, not an outage.
    expect(unavailableDependency(grpc(5))).toBeNull();
    expect(unavailableDependency(grpc(3))).toBeNull();
    // A constraint violation or a bug is not an outage.
    expect(unavailableDependency(Object.assign(new Error('duplicate key'), { code: '23505', severity: 'ERROR' }))).toBeNull();
    expect(unavailableDependency(new TypeError('x is undefined'))).toBeNull();
    expect(unavailableDependency(null)).toBeNull();
    // An SQLSTATE-looking code on something that is not a Postgres answer does not count.
    expect(unavailableDependency(Object.assign(new Error('odd'), { code: '08006' }))).toBeNull();
  });
});
