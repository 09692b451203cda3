import type Redis from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../../app/logger';
import type { Db } from '../../db/knex';
import { revocationState, type RevocationState } from '../../db/identity';
import { publishRevocation, RevocationMirror } from '../../infra/revocation-store';
import { ApiError } from '../errors';
import { coarseNow } from './coarse-clock';

/** What an access token claims, to be held against the user's current state. */
export interface SessionClaims {
  userId: string;
  sessionId: string;
  tokenVersion: number;
}

/** What this instance last read about one user. Shared by every token of theirs it remembers. */
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
}

/** A token's claims, tied to its user's state, so the hot path needs no second lookup. */
export interface TrackedSession {
  sessionId: string;
  tokenVersion: number;
  user: UserState;
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
 * Is this access token still good? Checked on every request: logout-all and role changes bump
 * the user's token version, logouts revoke one session, and tokens from before stop working at
 * once — within `cacheMs` on other API instances, immediately on this one.
 *
 * Per user, the state is read from Redis (Postgres when Redis is absent or failing) and trusted
 * for `cacheMs`. Past three quarters of that it is read again in the background while requests
 * carry on with what is known, so a busy user's requests — order placement — never wait for a
 * round trip; only a user not seen for a while waits for one read.
 */
export class TokenRevocations {
  private readonly users: LRUCache<string, UserState>;
  private readonly mirror: RevocationMirror | null;
  private readonly refreshAfterMs: number;

  constructor(private readonly options: TokenRevocationsOptions) {
    this.users = new LRUCache<string, UserState>({ max: options.maxUsers ?? 100_000 });
    this.mirror = options.redis ? new RevocationMirror(options.redis) : null;
    this.refreshAfterMs = options.cacheMs * 0.75;
  }

  track(claims: SessionClaims): TrackedSession {
    let user = this.users.get(claims.userId);
    if (!user) {
      user = { userId: claims.userId, tokenVersion: -1, revoked: null, freshUntil: -Infinity, refreshAt: -Infinity, epoch: 0, loading: null };
      this.users.set(claims.userId, user);
    }
    return { sessionId: claims.sessionId, tokenVersion: claims.tokenVersion, user };
  }

  /** From what this instance knows: true/false, or undefined when it has to look (see `check`). */
  isCurrent(t: TrackedSession): boolean | undefined {
    const user = t.user;
    // Coarse: a state may be trusted up to the clock's resolution (20 ms) longer than cacheMs.
    const now = coarseNow();
    if (now >= user.freshUntil) return undefined;
    if (now >= user.refreshAt && user.loading === null) this.load(user).catch(() => undefined);
    return user.tokenVersion === t.tokenVersion && (user.revoked === null || !user.revoked.has(t.sessionId));
  }

  async check(t: TrackedSession): Promise<boolean> {
    const known = this.isCurrent(t);
    if (known !== undefined) return known;
    const state = await this.load(t.user);
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
    }
    await publishRevocation(this.options.db, this.options.redis, userId, this.options.windowSeconds);
  }

  /** One read per user at a time, however many of their requests arrive meanwhile. */
  private load(user: UserState): Promise<RevocationState> {
    if (user.loading) return user.loading;
    const epoch = user.epoch;
    const reading = this.read(user.userId).then(
      (state) => {
        if (user.epoch === epoch) {
          user.tokenVersion = state.tokenVersion;
          user.revoked = state.revokedSessions.length ? new Set(state.revokedSessions) : null;
          const now = coarseNow();
          user.freshUntil = now + this.options.cacheMs;
          user.refreshAt = now + this.refreshAfterMs;
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

  private async read(userId: string): Promise<RevocationState> {
    if (this.mirror) {
      try {
        const copy = await this.mirror.read(userId);
        if (copy) return copy;
        const state = await this.fromPostgres(userId);
        await this.mirror.merge(userId, state);
        return state;
      } catch (err) {
        if (err instanceof ApiError) throw err;
        this.options.logger?.warn({ err }, 'token revocation: Redis failed, reading Postgres');
      }
    }
    return this.fromPostgres(userId);
  }

  private async fromPostgres(userId: string): Promise<RevocationState> {
    try {
      return await revocationState(this.options.db, userId, this.options.windowSeconds);
    } catch (err) {
      this.options.logger?.error({ err }, 'token revocation: Postgres failed');
      throw new ApiError(503, 'auth_unavailable', 'Tokens cannot be checked right now; retry shortly');
    }
  }
}
