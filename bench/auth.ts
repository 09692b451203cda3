/**
 * Bearer-verification benchmark: what the revocation check (token version and revoked sessions,
 * through Redis with a few seconds of in-process cache) costs on every authenticated request.
 *
 *   npm run bench:auth [-- --users=2000 --processes=3 --rounds=41 --roundMs=150]
 *
 * Both sides run the API's own `authenticate` middleware on Mandi access tokens of `users` users
 * (one session each), sent round-robin the way many apps' requests interleave, through one and the
 * same verifier whose token cache is warm, as in a running API:
 *   verify                    — the remembered signature verdict, without the revocation check
 *                               (BearerVerifier.withoutRevocationCheck: same cache, same entries)
 *   verifyWithRevocation      — the same, plus the check (AUTH_REVOCATION_CACHE_MS = 2 s, so every
 *                               user's state is read again from Redis, in batches, every 1.5 s)
 * Within a process, rounds alternate between the two after a warm-up, in adjacent pairs; the
 * process reports each side's median round and the median of the pairs' with/without ratios (on
 * a shared machine whose speed drifts, neighbouring rounds compare better than two medians). The
 * JIT compiles each process a little differently, so `processes` fresh processes measure in turn
 * and the medians across them are printed: `ratio` (target ≥ 0.9) and the two rates.
 *
 * Starts what it needs: a fresh database on 127.0.0.1:5432 (dropped at the end) and Redis at
 * BENCH_REDIS_URL (default redis://127.0.0.1:6379). Prints exactly one JSON line.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { authenticate, type BearerCheck } from '../api/auth';
import { AccessTokens } from '../api/identity/access-tokens';
import { BearerVerifier } from '../api/identity/bearer';
import { TokenRevocations } from '../api/identity/revocations';
import { createSession, newUserId } from '../db/identity';
import { createDb, type Db } from '../db/knex';
import { createBenchDatabase } from './support/database';
import { median, round } from './support/stats';

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET = 'bench-auth-secret-0123456789abcdef0123456789';
/** AUTH_REVOCATION_CACHE_MS's default. */
const CACHE_MS = 2000;

function arg(name: string, def: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.slice(name.length + 3)) : def;
}

interface FakeRequest {
  headers: { authorization: string };
  principal?: unknown;
}

interface ProcessResult {
  verifyPerSec: number;
  verifyWithRevocationPerSec: number;
  ratio: number;
}

async function seedTokens(db: Db, accessTokens: AccessTokens, users: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < users; i += 500) {
    const batch = Array.from({ length: Math.min(500, users - i) }, () => ({ id: newUserId() }));
    await db('users').insert(batch);
    for (const { id } of batch) {
      const sessionId = await createSession(db, { userId: id, device: 'bench', userAgent: null, ip: null });
      tokens.push(await accessTokens.sign({ userId: id, roles: ['customer'], sessionId, tokenVersion: 0 }));
    }
  }
  return tokens;
}

/**
 * The measuring processes run with --expose-gc: each round starts with an empty young
 * generation, so neither side pays for the garbage the other one left behind.
 */
const collectGarbage = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

/** Requests authenticated per second through the middleware for `ms`, letting async checks finish. */
async function throughput(bearer: BearerCheck, requests: FakeRequest[], ms: number): Promise<number> {
  collectGarbage();
  const middleware = authenticate(bearer);
  let done = 0;
  let failed = 0;
  const next = (err?: unknown) => (err ? failed++ : done++);
  const res = {} as never;
  let i = 0;
  const started = performance.now();
  while (performance.now() - started < ms) {
    for (let k = 0; k < 2000; k++) middleware(requests[i++ % requests.length] as never, res, next as never);
    // Let the few requests that had to wait for Redis complete, as the event loop would.
    await new Promise((r) => setImmediate(r));
  }
  const issued = i;
  while (done + failed < issued) await new Promise((r) => setImmediate(r));
  if (failed) throw new Error(`${failed} requests were refused`);
  return done / ((performance.now() - started) / 1000);
}

/** One measuring process: the tokens from the parent, its own verifier, Redis and database pool. */
async function measure(tokensFile: string, databaseUrl: string, rounds: number, roundMs: number): Promise<ProcessResult> {
  const db = createDb(databaseUrl, 4);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3, enableAutoPipelining: true });
  try {
    const tokens = JSON.parse(fs.readFileSync(tokensFile, 'utf8')) as string[];
    const requests: FakeRequest[] = tokens.map((t) => ({ headers: { authorization: `Bearer ${t}` } }));
    const revocations = new TokenRevocations({ db, redis, cacheMs: CACHE_MS, windowSeconds: 960 });
    const verifier = new BearerVerifier({
      db,
      accessTokens: new AccessTokens(SECRET, 900),
      devKey: null,
      external: null,
      rolesCacheMs: CACHE_MS,
      revocations,
    });
    const checked: BearerCheck = verifier;
    const plain = verifier.withoutRevocationCheck();

    // Warm-up: every token verified once, the JIT settled.
    for (let w = 0; w < 3; w++) {
      await throughput(checked, requests, roundMs);
      await throughput(plain, requests, roundMs);
    }
    const plainRuns: number[] = [];
    const checkedRuns: number[] = [];
    const pairRatios: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternate which goes first, so neither always runs on a warmer or cooler machine.
      let a: number;
      let b: number;
      if (r % 2 === 0) {
        a = await throughput(plain, requests, roundMs);
        b = await throughput(checked, requests, roundMs);
      } else {
        b = await throughput(checked, requests, roundMs);
        a = await throughput(plain, requests, roundMs);
      }
      plainRuns.push(a);
      checkedRuns.push(b);
      pairRatios.push(b / a);
    }
    return { verifyPerSec: median(plainRuns), verifyWithRevocationPerSec: median(checkedRuns), ratio: median(pairRatios) };
  } finally {
    redis.disconnect();
    await db.destroy();
  }
}

async function main(): Promise<void> {
  const users = arg('users', 2000);
  const processes = arg('processes', 3);
  const rounds = arg('rounds', 41);
  const roundMs = arg('roundMs', 150);
  const bench = await createBenchDatabase('auth', 4);
  const tokensFile = path.join(os.tmpdir(), `mandi-bench-auth-${process.pid}.json`);
  try {
    fs.writeFileSync(tokensFile, JSON.stringify(await seedTokens(bench.db, new AccessTokens(SECRET, 900), users)));
    const results: ProcessResult[] = [];
    for (let p = 0; p < processes; p++) {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          '--expose-gc',
          '--import',
          'tsx',
          __filename,
          `--measure=${tokensFile}`,
          `--db=${bench.url}`,
          `--rounds=${rounds}`,
          `--roundMs=${roundMs}`,
        ],
        { maxBuffer: 1 << 20 },
      );
      results.push(JSON.parse(stdout.trim().split('\n').pop()!) as ProcessResult);
    }
    console.log(
      JSON.stringify({
        bench: 'auth',
        verifyPerSec: Math.round(median(results.map((r) => r.verifyPerSec))),
        verifyWithRevocationPerSec: Math.round(median(results.map((r) => r.verifyWithRevocationPerSec))),
        ratio: round(median(results.map((r) => r.ratio)), 3),
        ratios: results.map((r) => round(r.ratio, 3)),
        users,
        processes,
        rounds,
        roundMs,
        revocationCacheMs: CACHE_MS,
      }),
    );
  } finally {
    fs.rmSync(tokensFile, { force: true });
    await bench.drop();
  }
}

const measuring = process.argv.find((a) => a.startsWith('--measure='));
if (measuring) {
  const db = process.argv.find((a) => a.startsWith('--db='))!.slice('--db='.length);
  measure(measuring.slice('--measure='.length), db, arg('rounds', 41), arg('roundMs', 150)).then(
    (result) => {
      console.log(JSON.stringify(result));
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
