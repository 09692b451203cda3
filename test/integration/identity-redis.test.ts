import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { otpHasher } from '../../api/identity/keys';
import { TokenRevocations } from '../../api/identity/revocations';
import { bumpTokenVersion, createSession, newUserId, revokeSession } from '../../db/identity';
import { RedisOtpStore } from '../../infra/otp-store';
import { publishRevocation, RevocationMirror } from '../../infra/revocation-store';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { testEnv } from '../support/env';

/** One-time codes and token revocations on real Redis (and Postgres), as every API instance shares them. */

let redis: Redis;
let tdb: TestDatabase;
beforeAll(async () => {
  redis = new Redis(testEnv.redisUrl, { maxRetriesPerRequest: 3 });
  tdb = await createTestDatabase();
});
afterAll(async () => {
  redis.disconnect();
  await tdb.drop();
});

const hash = otpHasher('integration-secret-0123456789abcdef');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('codes in Redis', () => {
  // A prefix of this run's own: nothing collides with other runs in the shared Redis.
  const store = () => new RedisOtpStore(redis, `mandi:test:${randomUUID()}:`);
  const phone = '+919876543210';

  test('a code is stored only as its hash, used once, and expires with its TTL', async () => {
    const prefix = `mandi:test:${randomUUID()}:`;
    const s = new RedisOtpStore(redis, prefix);
    await s.saveCode(phone, hash(phone, '123456'), 60_000);
    const stored = await redis.hgetall(`${prefix}code:${phone}`);
    expect(stored.h).toBe(hash(phone, '123456').toString('base64'));
    expect(JSON.stringify(stored)).not.toContain('123456');
    expect(await redis.pttl(`${prefix}code:${phone}`)).toBeGreaterThan(59_000);
    expect(await s.checkCode(phone, hash(phone, '123456'), 5)).toBe('ok');
    expect(await s.checkCode(phone, hash(phone, '123456'), 5)).toBe('none');

    await s.saveCode(phone, hash(phone, '654321'), 300);
    await sleep(400);
    expect(await s.checkCode(phone, hash(phone, '654321'), 5)).toBe('none');
  });

  test('50 guesses at once get 5 tries between them, and the right code after them is refused', async () => {
    const s = store();
    await s.saveCode(phone, hash(phone, '424242'), 60_000);
    const guesses = Array.from({ length: 50 }, (_, i) => s.checkCode(phone, hash(phone, String(100000 + i)), 5));
    const results = await Promise.all(guesses);
    expect(results.filter((r) => r === 'wrong')).toHaveLength(4);
    expect(results.filter((r) => r === 'locked')).toHaveLength(1);
    expect(results.filter((r) => r === 'none')).toHaveLength(45);
    expect(await s.checkCode(phone, hash(phone, '424242'), 5)).toBe('none');
  });

  test('two correct answers at once: exactly one logs in', async () => {
    const s = store();
    await s.saveCode(phone, hash(phone, '777777'), 60_000);
    const results = await Promise.all([s.checkCode(phone, hash(phone, '777777'), 5), s.checkCode(phone, hash(phone, '777777'), 5)]);
    expect(results.sort()).toEqual(['none', 'ok']);
  });

  test('sends are admitted with back-off and a cap per window, atomically across callers', async () => {
    const s = store();
    const limits = { windowMs: 1_500, maxPerWindow: 3, backoffBaseMs: 200 };
    // Ten instances asking at once: one is admitted, the others told to wait the back-off.
    const first = await Promise.all(Array.from({ length: 10 }, () => s.admit('phone:a', limits)));
    expect(first.filter((w) => w === 0)).toHaveLength(1);
    for (const w of first.filter((w) => w > 0)) expect(w).toBeLessThanOrEqual(200);
    await sleep(210);
    expect(await s.admit('phone:a', limits)).toBe(0);
    const wait = await s.admit('phone:a', limits);
    expect(wait).toBeGreaterThan(300); // second wait: doubled
    expect(wait).toBeLessThanOrEqual(400);
    await sleep(wait + 10);
    expect(await s.admit('phone:a', limits)).toBe(0);
    // Three in the window: the fourth waits for the first to leave it.
    const capped = await s.admit('phone:a', limits);
    expect(capped).toBeGreaterThan(400);
    await sleep(capped + 10);
    expect(await s.admit('phone:a', limits)).toBe(0);
  });
});

describe('token revocations', () => {
  async function userWithSession() {
    const userId = newUserId();
    await tdb.db('users').insert({ id: userId });
    const sessionId = await createSession(tdb.db, { userId, device: null, userAgent: null, ip: null });
    return { userId, sessionId };
  }
  const options = () => ({ db: tdb.db, redis, cacheMs: 300, windowSeconds: 960 });

  test('the Redis copy only ever moves forward, whatever order fills and merges land in', async () => {
    const mirror = new RevocationMirror(redis, `mandi:test:${randomUUID()}:`);
    await mirror.merge('u', { tokenVersion: 2, revokedSessions: ['ses_a'] });
    await mirror.merge('u', { tokenVersion: 1, revokedSessions: [] }); // a late fill with older data
    await mirror.merge('u', { tokenVersion: 2, revokedSessions: ['ses_b'] });
    expect(await mirror.read('u')).toEqual({ tokenVersion: 2, revokedSessions: expect.arrayContaining(['ses_a', 'ses_b']) });
    expect(await mirror.read('nobody')).toBeNull();
  });

  test('logout-all on one instance reaches another within its cache time; on its own at once', async () => {
    const { userId, sessionId } = await userWithSession();
    const a = new TokenRevocations(options());
    const b = new TokenRevocations(options());
    const claims = { userId, sessionId, tokenVersion: 0 };
    const [onA, onB] = [a.track(claims), b.track(claims)];
    expect(await a.check(onA)).toBe(true);
    expect(await b.check(onB)).toBe(true);

    await bumpTokenVersion(tdb.db, userId);
    await a.published(userId);
    expect(await a.check(onA)).toBe(false);
    expect(b.isCurrent(onB)).toBe(true); // B still trusts what it read: at most cacheMs
    await sleep(320);
    expect(await b.check(onB)).toBe(false);
    expect(await b.check(b.track({ ...claims, tokenVersion: 1 }))).toBe(true);
  });

  test('ending one session stops its tokens and no other session’s', async () => {
    const { userId, sessionId } = await userWithSession();
    const other = await createSession(tdb.db, { userId, device: null, userAgent: null, ip: null });
    const r = new TokenRevocations(options());
    expect(await r.check(r.track({ userId, sessionId, tokenVersion: 0 }))).toBe(true);
    await revokeSession(tdb.db, sessionId, 'logout');
    await r.published(userId);
    expect(await r.check(r.track({ userId, sessionId, tokenVersion: 0 }))).toBe(false);
    expect(await r.check(r.track({ userId, sessionId: other, tokenVersion: 0 }))).toBe(true);
  });

  test('a revocation written by another process (an activity) is seen through Redis', async () => {
    const { userId, sessionId } = await userWithSession();
    const r = new TokenRevocations(options());
    const tracked = r.track({ userId, sessionId, tokenVersion: 0 });
    expect(await r.check(tracked)).toBe(true);
    await bumpTokenVersion(tdb.db, userId);
    await publishRevocation(tdb.db, redis, userId, 960);
    await sleep(320);
    expect(await r.check(tracked)).toBe(false);
  });

  test('without Redis, Postgres answers; an unknown user matches no token', async () => {
    const { userId, sessionId } = await userWithSession();
    const r = new TokenRevocations({ db: tdb.db, cacheMs: 0, windowSeconds: 960 });
    expect(await r.check(r.track({ userId, sessionId, tokenVersion: 0 }))).toBe(true);
    await bumpTokenVersion(tdb.db, userId);
    expect(await r.check(r.track({ userId, sessionId, tokenVersion: 0 }))).toBe(false);
    expect(await r.check(r.track({ userId: newUserId(), sessionId, tokenVersion: 0 }))).toBe(false);
  });

  test('with Redis unreachable, the check falls back to Postgres', async () => {
    const broken = new Redis('redis://127.0.0.1:1', { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    broken.on('error', () => {});
    const { userId, sessionId } = await userWithSession();
    const r = new TokenRevocations({ db: tdb.db, redis: broken, cacheMs: 300, windowSeconds: 960 });
    expect(await r.check(r.track({ userId, sessionId, tokenVersion: 0 }))).toBe(true);
    broken.disconnect();
  });
});
