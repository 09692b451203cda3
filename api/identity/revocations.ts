import type Redis from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../../app/logger';
import type { Db } from '../../db/knex';
import { revocationStates, type RevocationState } from '../../db/identity';
import { publishRevocation, RevocationMirror } from '../../infra/revocation-store';
import { ApiError } from '../errors';
import { coarseClock, startCoarseClock } from './coarse-clock';

/** What an access token claims, to be held against the user's current state. */
export interface SessionClaims {
  userId: string;
  sessionId: string;
  tokenVersion: number;
}

/** What this instance last read about one user. */
interface UserState {
  userId: string;
  tokenVersion: number;
  /** null when none is (the usual case: nothing to look up). */
  revoked: ReadonlySet<string> | null;
  /** Trusted until then (ms, coarse clock); -Infinity: never read, or thrown away by a revocation. */
  freshUntil: number;
  /** From then on, requests still pass on it while it is read again in the background. */
  refreshAt: number;
  /** Bumped when a revocation of this user is published here: a read begun before is not kept. */
  epoch: number;
  loading: Promise<RevocationState> | null;
  /** The user's remembered tokens: every read and every revocation updates them. */
  sessions: Set<TrackedSession>;
}

/**
 * One remembered token's side of the check, kept up to date by TokenRevocations, so that a
 * request reads this object alone: whether the token is current, and until when that is known.
 */
export interface TrackedSession {
  readonly sessionId: string;
  readonly tokenVersion: number;
  user: UserState | null;
  current: boolean;
  freshUntil: number;
  refreshAt: number;
}

/** The fields of a TrackedSession not yet attached to its user (see TokenRevocations.attach). */
export function untrackedSession(sessionId: string, tokenVersion: number) {
  return { sessionId, tokenVersion, user: null as UserState | null, current: false, freshUntil: -Infinity, refreshAt: -Infinity };
}

export interface TokenRevocationsOptions {
  db: Db;
  redis?: Redis;
  /** How long this instance trusts what it read: the longest a revocation takes to reach it. */
  cacheMs: number;
  /** Access-token lifetime (plus skew): sessions revoked longer ago than this hold no live token. */
  windowSeconds: number;
  logger?: Logger;
  maxUsers?: number;
}

/**
 * Refreshes in the background wait this long to be read together: one round trip (one MGET) for
 * all of them instead of one per user. A user nobody has seen lately is read at once (next tick).
 */
const REFRESH_BATCH_MS = 25;

const ignore = () => undefined;

/** A remembered token takes on what is now known of its user. */
function follow(user: UserState, t: TrackedSession): void {
  t.current = user.tokenVersion === t.tokenVersion && !(user.revoked?.has(t.sessionId) ?? false);
  t.freshUntil = user.freshUntil;
  t.refreshAt = user.refreshAt;
}

interface Waiter {
  resolve(state: RevocationState): void;
  reject(err: unknown): void;
}

/**
 * Is this access token still good? Checked on every request: logout-all and role changes bump
 * the user's token version, logouts revoke one session, and tokens from before stop working at
 * once — within `cacheMs` on other API instances, immediately on this one.
 *
 * Per user, the state is read from Redis (Postgres when Redis is absent or failing) and trusted
 * for `cacheMs`. Past three quarters of that it is read again in the background while requests
 * carry on with what is known, so a busy user's requests — order placement — never wait for a
 * round trip; only a user not seen for a while waits for one read. Each remembered token holds
 * its own copy of the verdict (TrackedSession), updated whenever its user's state is, so a
 * request reads one object. (A user state pushed out of the bounded cache keeps serving the
 * tokens that hold it; it is still read again every `cacheMs`, so nothing is trusted longer.)
 */
export class TokenRevocations {
  private readonly users: LRUCache<string, UserState>;
  private readonly mirror: RevocationMirror | null;
  private readonly refreshAfterMs: number;
  private queued = new Map<string, Waiter[]>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushImmediate: NodeJS.Immediate | null = null;

  constructor(private readonly options: TokenRevocationsOptions) {
    this.users = new LRUCache<string, UserState>({ max: options.maxUsers ?? 100_000 });
    this.mirror = options.redis ? new RevocationMirror(options.redis) : null;
    this.refreshAfterMs = options.cacheMs * 0.75;
    startCoarseClock();
  }

  /** A TrackedSession of its own for these claims (tests, and callers without a token cache). */
  track(claims: SessionClaims): TrackedSession {
    return this.attach(untrackedSession(claims.sessionId, claims.tokenVersion), claims.userId);
  }

  /** Ties a remembered token to its user's state; `detach` it when the token is forgotten. */
  attach<T extends TrackedSession>(t: T, userId: string): T {
    let user = this.users.get(userId);
    if (!user) {
      user = {
        userId,
        tokenVersion: -1,
        revoked: null,
        freshUntil: -Infinity,
        refreshAt: -Infinity,
        epoch: 0,
        loading: null,
        sessions: new Set(),
      };
      this.users.set(userId, user);
    }
    t.user = user;
    user.sessions.add(t);
    follow(user, t);
    return t;
  }

  detach(t: TrackedSession): void {
    t.user?.sessions.delete(t);
  }

  /** From what this instance knows: true/false, or undefined when it has to look (see `check`). */
  isCurrent(t: TrackedSession): boolean | undefined {
    // Coarse: a state may be trusted up to the clock's resolution (20 ms) longer than cacheMs.
    const now = coarseClock.now;
    if (now >= t.freshUntil) return undefined;
    if (now >= t.refreshAt) this.refreshSoon(t.user!);
    return t.current;
  }

  /** Kept out of isCurrent, so that the request path stays small enough to be inlined. */
  private refreshSoon(user: UserState): void {
    if (user.loading === null) this.load(user, false).catch(ignore);
  }

  async check(t: TrackedSession): Promise<boolean> {
    const known = this.isCurrent(t);
    if (known !== undefined) return known;
    const state = await this.load(t.user!, true);
    return state.tokenVersion === t.tokenVersion && !state.revokedSessions.includes(t.sessionId);
  }

  /** After a revocation is committed: forget ours, and tell the other instances (Redis). */
  async published(userId: string): Promise<void> {
    const user = this.users.get(userId);
    if (user) {
      user.epoch++;
      user.freshUntil = -Infinity;
      user.refreshAt = -Infinity;
      user.loading = null;
      for (const t of user.sessions) follow(user, t);
    }
    await publishRevocation(this.options.db, this.options.redis, userId, this.options.windowSeconds);
  }

  /** One read per user at a time, however many of their requests arrive meanwhile. */
  private load(user: UserState, urgent: boolean): Promise<RevocationState> {
    if (user.loading) {
      if (urgent) this.flushSoon(true);
      return user.loading;
    }
    const epoch = user.epoch;
    const reading = this.enqueue(user.userId, urgent).then(
      (state) => {
        if (user.epoch === epoch) {
          user.tokenVersion = state.tokenVersion;
          user.revoked = state.revokedSessions.length ? new Set(state.revokedSessions) : null;
          const now = coarseClock.now;
          user.freshUntil = now + this.options.cacheMs;
          user.refreshAt = now + this.refreshAfterMs;
          for (const t of user.sessions) follow(user, t);
        }
        if (user.loading === reading) user.loading = null;
        return state;
      },
      (err) => {
        if (user.loading === reading) user.loading = null;
        throw err;
      },
    );
    user.loading = reading;
    return reading;
  }

  private enqueue(userId: string, urgent: boolean): Promise<RevocationState> {
    return new Promise((resolve, reject) => {
      const waiters = this.queued.get(userId);
      if (waiters) waiters.push({ resolve, reject });
      else this.queued.set(userId, [{ resolve, reject }]);
      this.flushSoon(urgent);
    });
  }

  private flushSoon(urgent: boolean): void {
    if (urgent) {
      this.flushImmediate ??= setImmediate(() => this.flush());
    } else if (!this.flushTimer && !this.flushImmediate) {
      this.flushTimer = setTimeout(() => this.flush(), REFRESH_BATCH_MS);
      this.flushTimer.unref();
    }
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.flushImmediate) clearImmediate(this.flushImmediate);
    this.flushTimer = null;
    this.flushImmediate = null;
    const batch = this.queued;
    if (batch.size === 0) return;
    this.queued = new Map();
    this.readMany([...batch.keys()]).then(
      (states) => {
        for (const [userId, waiters] of batch) for (const w of waiters) w.resolve(states.get(userId)!);
      },
      (err) => {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      },
    );
  }

  private async readMany(userIds: string[]): Promise<Map<string, RevocationState>> {
    if (this.mirror) {
      try {
        const copies = await this.mirror.readMany(userIds);
        const missing = userIds.filter((id) => !copies.has(id));
        if (missing.length) {
          const filled = await this.fromPostgres(missing);
          await this.mirror.mergeMany(filled);
          for (const [id, state] of filled) copies.set(id, state);
        }
        return copies;
      } catch (err) {
        if (err instanceof ApiError) throw err;
        this.options.logger?.warn({ err }, 'token revocation: Redis failed, reading Postgres');
      }
    }
    return this.fromPostgres(userIds);
  }

  private async fromPostgres(userIds: string[]): Promise<Map<string, RevocationState>> {
    try {
      return await revocationStates(this.options.db, userIds, this.options.windowSeconds);
    } catch (err) {
      this.options.logger?.error({ err }, 'token revocation: Postgres failed');
      throw new ApiError(503, 'auth_unavailable', 'Tokens cannot be checked right now; retry shortly');
    }
  }
}
