import { randomUUID, timingSafeEqual } from 'node:crypto';
import type Redis from 'ioredis';
import { sendWait, type CodeCheck, type SendLimits } from '../domain/identity';

/**
 * Where one-time codes wait to be checked, and the counters that limit sending and guessing them.
 * Redis when there is one (every API instance sees the same codes and counts); in one process, an
 * in-memory store does the same job. Only the keyed hash of a code is kept, never the code.
 */
export interface OtpStore {
  /**
   * Counts one event against `key`'s window (a phone's sends, an address's requests) if `limits`
   * allow it now; otherwise counts nothing and answers how many ms until one would be allowed.
   */
  admit(key: string, limits: SendLimits): Promise<number>;
  /** Replaces any pending code of `phone`; it expires after `ttlMs`. */
  saveCode(phone: string, hash: Buffer, ttlMs: number): Promise<void>;
  /** Counts a try first, then compares: parallel guesses cannot get more tries than `maxAttempts`. */
  checkCode(phone: string, hash: Buffer, maxAttempts: number): Promise<CodeCheck>;
}

interface PendingCode {
  hash: Buffer;
  attempts: number;
  expiresAt: number;
}

export class MemoryOtpStore implements OtpStore {
  private readonly windows = new Map<string, number[]>();
  private readonly codes = new Map<string, PendingCode>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    // Forget what has aged out, so a flood of distinct phones and addresses cannot grow the maps.
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  async admit(key: string, limits: SendLimits): Promise<number> {
    const now = this.now();
    const times = (this.windows.get(key) ?? []).filter((t) => t > now - limits.windowMs);
    const wait = sendWait(times, now, limits);
    if (wait === 0) times.push(now);
    if (times.length) this.windows.set(key, times);
    else this.windows.delete(key);
    return wait;
  }

  async saveCode(phone: string, hash: Buffer, ttlMs: number): Promise<void> {
    this.codes.set(phone, { hash, attempts: 0, expiresAt: this.now() + ttlMs });
  }

  async checkCode(phone: string, hash: Buffer, maxAttempts: number): Promise<CodeCheck> {
    const pending = this.codes.get(phone);
    if (!pending || pending.expiresAt <= this.now()) {
      this.codes.delete(phone);
      return 'none';
    }
    pending.attempts++;
    if (pending.hash.length === hash.length && timingSafeEqual(pending.hash, hash)) {
      this.codes.delete(phone);
      return 'ok';
    }
    if (pending.attempts >= maxAttempts) {
      this.codes.delete(phone);
      return 'locked';
    }
    return 'wrong';
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = this.now();
    for (const [phone, code] of this.codes) if (code.expiresAt <= now) this.codes.delete(phone);
    // No window is longer than a day; anything older is of no use to any limit.
    for (const [key, times] of this.windows) if (times[times.length - 1] <= now - 24 * 3600_000) this.windows.delete(key);
  }
}

/** sendWait (domain/identity.ts) over a sorted set of event times, admitted atomically. */
const ADMIT = `
local key, now, window, max, base, member = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local n = redis.call('ZCARD', key)
if n >= max then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
if n > 0 and base > 0 then
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  local wait = tonumber(last[2]) + base * 2 ^ (n - 1) - now
  if wait > 0 then return math.ceil(wait) end
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, window)
return 0
`;

/**
 * Count the try, then compare. The comparison in Lua is not constant-time, but what it compares
 * are HMACs under a key the caller does not have: timing reveals nothing about the code.
 */
const CHECK = `
local key, hash, max = KEYS[1], ARGV[1], tonumber(ARGV[2])
local stored = redis.call('HGET', key, 'h')
if not stored then return 'none' end
local tries = redis.call('HINCRBY', key, 'a', 1)
if stored == hash then redis.call('DEL', key) return 'ok' end
if tries >= max then redis.call('DEL', key) return 'locked' end
return 'wrong'
`;

type OtpRedis = Redis & {
  otpAdmit(key: string, now: number, windowMs: number, max: number, baseMs: number, member: string): Promise<number>;
  otpCheck(key: string, hash: string, max: number): Promise<CodeCheck>;
};

export class RedisOtpStore implements OtpStore {
  private readonly redis: OtpRedis;

  constructor(
    redis: Redis,
    private readonly prefix = 'mandi:otp:',
  ) {
    if (!('otpAdmit' in redis)) {
      redis.defineCommand('otpAdmit', { numberOfKeys: 1, lua: ADMIT });
      redis.defineCommand('otpCheck', { numberOfKeys: 1, lua: CHECK });
    }
    this.redis = redis as OtpRedis;
  }

  async admit(key: string, limits: SendLimits): Promise<number> {
    // Redis' clock, not ours: every instance then counts the same window.
    const [seconds, micros] = await this.redis.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    return Number(
      await this.redis.otpAdmit(
        `${this.prefix}w:${key}`,
        now,
        limits.windowMs,
        limits.maxPerWindow,
        limits.backoffBaseMs,
        `${now}:${randomUUID()}`,
      ),
    );
  }

  async saveCode(phone: string, hash: Buffer, ttlMs: number): Promise<void> {
    const key = `${this.prefix}code:${phone}`;
    await this.redis.multi().del(key).hset(key, 'h', hash.toString('base64'), 'a', 0).pexpire(key, ttlMs).exec();
  }

  async checkCode(phone: string, hash: Buffer, maxAttempts: number): Promise<CodeCheck> {
    return this.redis.otpCheck(`${this.prefix}code:${phone}`, hash.toString('base64'), maxAttempts);
  }
}
