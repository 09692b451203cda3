/**
 * Bearer-verification benchmark: what the revocation check (token version and revoked sessions,
 * through Redis with a few seconds of in-process cache) costs on every authenticated request.
 *
 *   npm run bench:auth [-- --users=2000 --rounds=61 --roundMs=150]
 *
 * Both sides run the API's own `authenticate` middleware on Mandi access tokens of `users` users
 * (one session each), sent round-robin the way many apps' requests interleave, with every token
 * already verified once (the token cache is warm on both sides, as in a running API):
 *   verify                    — signature verdict remembered, no revocation check
 *   verifyWithRevocation      — the same, plus the check (AUTH_REVOCATION_CACHE_MS = 2 s, so each
 *                               user's state is re-read from Redis every 2 s during the run)
 * Rounds alternate between the two after a warm-up, in adjacent pairs; each side's median round
 * is reported, and `ratio` is the median of the pairs' with/without ratios (target ≥ 0.9): on a
 * shared machine whose speed drifts, comparing neighbouring rounds is steadier than comparing the
 * two medians (which it matches when the machine is quiet).
 *
 * Starts what it needs: a fresh database on 127.0.0.1:5432 (dropped at the end) and Redis at
 * BENCH_REDIS_URL (default redis://127.0.0.1:6379). Prints exactly one JSON line.
 */
import Redis from 'ioredis';
import { authenticate, type BearerCheck } from '../api/auth';
import { AccessTokens } from '../api/identity/access-tokens';
import { BearerVerifier } from '../api/identity/bearer';
import { TokenRevocations } from '../api/identity/revocations';
import { createSession, newUserId } from '../db/identity';
import type { Db } from '../db/knex';
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

/** Requests authenticated per second through the middleware for `ms`, letting async checks finish. */
async function throughput(bearer: BearerCheck, requests: FakeRequest[], ms: number): Promise<number> {
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

async function main(): Promise<void> {
  const users = arg('users', 2000);
  const rounds = arg('rounds', 61);
  const roundMs = arg('roundMs', 150);
  const bench = await createBenchDatabase('auth', 4);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3, enableAutoPipelining: true });
  try {
    const accessTokens = new AccessTokens(SECRET, 900);
    const tokens = await seedTokens(bench.db, accessTokens, users);
    const requests: FakeRequest[] = tokens.map((t) => ({ headers: { authorization: `Bearer ${t}` } }));
    const common = { db: bench.db, accessTokens, devKey: null, external: null, rolesCacheMs: 2000 };
    const revocations = new TokenRevocations({ db: bench.db, redis, cacheMs: CACHE_MS, windowSeconds: 960 });
    const plain = new BearerVerifier({ ...common, revocations: null });
    const checked = new BearerVerifier({ ...common, revocations });

    // Warm-up: every token verified once on both sides, the JIT settled.
    for (let w = 0; w < 3; w++) {
      await throughput(plain, requests, roundMs);
      await throughput(checked, requests, roundMs);
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
    const verifyPerSec = median(plainRuns);
    const verifyWithRevocationPerSec = median(checkedRuns);
    console.log(
      JSON.stringify({
        bench: 'auth',
        verifyPerSec: Math.round(verifyPerSec),
        verifyWithRevocationPerSec: Math.round(verifyWithRevocationPerSec),
        ratio: round(median(pairRatios), 3),
        users,
        rounds,
        roundMs,
        revocationCacheMs: CACHE_MS,
      }),
    );
  } finally {
    redis.disconnect();
    await bench.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
