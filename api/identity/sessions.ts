import { createHash, randomBytes } from 'node:crypto';
import type { Db, Tx } from '../../db/knex';
import {
  bumpTokenVersion,
  createSession,
  findUser,
  insertRefreshToken,
  liveSessions,
  lockRefreshToken,
  recordAuthEvent,
  recordLogin,
  retireRefreshToken,
  revokeAllSessions,
  revokeSession,
  userForPhone,
  userRoles,
  type SessionRow,
  type UserRow,
} from '../../db/identity';
import type { Role } from '../../domain/capabilities';
import { ApiError } from '../errors';
import type { AccessTokens } from './access-tokens';
import type { TokenRevocations } from './revocations';

/** Where a request came from, for sessions and the audit log. */
export interface Origin {
  ip: string | null;
  userAgent: string | null;
}

export interface UserView {
  userId: string;
  phone: string | null;
  roles: Role[];
  termsVersion: string | null;
  termsAcceptedAt: string | null;
  createdAt: string;
}

export interface TokenPair {
  tokenType: 'Bearer';
  accessToken: string;
  /** Seconds the access token lives. */
  expiresIn: number;
  refreshToken: string;
  refreshExpiresAt: string;
  sessionId: string;
  user: UserView;
}

export function userView(user: UserRow, roles: Role[]): UserView {
  return {
    userId: user.id,
    phone: user.phone,
    roles,
    termsVersion: user.terms_version,
    termsAcceptedAt: user.terms_accepted_at ? new Date(user.terms_accepted_at).toISOString() : null,
    createdAt: new Date(user.created_at).toISOString(),
  };
}

/** 128 bits of randomness; only its SHA-256 is stored (it is unguessable, so no salt or key is needed). */
const newRefreshToken = () => `mrt_${randomBytes(16).toString('base64url')}`;
const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest();
export const REFRESH_TOKEN = /^mrt_[A-Za-z0-9_-]{22}$/;

/**
 * Login sessions: issuing a token pair, rotating it on refresh (one-time refresh tokens; reuse of
 * a retired one ends the session), and ending sessions one by one or all at once.
 */
export class Sessions {
  constructor(
    private readonly db: Db,
    private readonly accessTokens: AccessTokens,
    private readonly revocations: TokenRevocations,
    private readonly refreshTtlDays: number,
  ) {}

  /** After the code was checked: the phone's user (new on first login), its consent and a session. */
  async login(
    input: { phone: string; termsVersion: string; device: string | null },
    origin: Origin,
  ): Promise<TokenPair & { isNewUser: boolean; deletionPending: boolean }> {
    return this.db.transaction(async (trx) => {
      const { user: found, created } = await userForPhone(trx, input.phone);
      const user = await recordLogin(trx, found.id, { termsVersion: input.termsVersion, ...origin });
      const sessionId = await createSession(trx, { userId: user.id, device: input.device, ...origin });
      const pair = await this.issue(trx, user, sessionId);
      await recordAuthEvent(trx, {
        action: 'auth.login',
        actor: user.id,
        roles: pair.user.roles,
        target: { type: 'session', id: sessionId },
        ...origin,
        details: { method: 'otp', newUser: created, termsVersion: input.termsVersion, device: input.device },
      });
      return { ...pair, isNewUser: created, deletionPending: user.deletion_requested_at !== null };
    });
  }

  /** A new pair for a live refresh token, which is retired; a retired one ends its session. */
  async refresh(refreshToken: string, origin: Origin): Promise<TokenPair> {
    const hash = hashRefreshToken(refreshToken);
    const outcome = await this.db.transaction(async (trx) => {
      const row = await lockRefreshToken(trx, hash);
      if (!row || row.session_revoked_at) return { refused: 'unknown' as const };
      if (row.used_at) {
        // Two parties hold this session's tokens: one of them stole it. End it for both.
        await revokeSession(trx, row.session_id, 'refresh_token_reused');
        await recordAuthEvent(trx, {
          action: 'auth.refresh_reuse_detected',
          actor: row.user_id,
          target: { type: 'session', id: row.session_id },
          ...origin,
          details: { retiredAt: new Date(row.used_at).toISOString() },
        });
        return { refused: 'reused' as const, userId: row.user_id };
      }
      if (new Date(row.expires_at).getTime() <= Date.now()) return { refused: 'expired' as const };
      await retireRefreshToken(trx, hash, row.session_id);
      const user = await findUser(trx, row.user_id);
      if (!user || user.erased_at) return { refused: 'unknown' as const };
      const pair = await this.issue(trx, user, row.session_id);
      await recordAuthEvent(trx, {
        action: 'auth.refresh',
        actor: user.id,
        roles: pair.user.roles,
        target: { type: 'session', id: row.session_id },
        ...origin,
      });
      return { pair };
    });
    if (outcome.pair) return outcome.pair;
    if (outcome.refused === 'reused') {
      await this.revocations.published(outcome.userId);
      throw new ApiError(401, 'refresh_token_reused', 'This refresh token was already used, so the session has been ended; log in again');
    }
    if (outcome.refused === 'expired') throw new ApiError(401, 'refresh_token_expired', 'The refresh token has expired; log in again');
    throw new ApiError(401, 'invalid_refresh_token', 'The refresh token is not valid; log in again');
  }

  /** Ends one session of the user; false when it was not theirs or already over. */
  async end(userId: string, sessionId: string, reason: 'logout' | 'remote_logout', origin: Origin, roles: Role[] = []): Promise<boolean> {
    const ended = await this.db.transaction(async (trx) => {
      const done = await revokeSession(trx, sessionId, reason, userId);
      if (done)
        await recordAuthEvent(trx, {
          action: `auth.${reason}`,
          actor: userId,
          roles,
          target: { type: 'session', id: sessionId },
          ...origin,
        });
      return done;
    });
    if (ended) await this.revocations.published(userId);
    return ended;
  }

  /** Every session ends and every access token of the user stops working, at once. */
  async endAll(userId: string, origin: Origin, roles: Role[] = []): Promise<{ sessionsEnded: number }> {
    const sessionsEnded = await this.db.transaction(async (trx) => {
      const n = await revokeAllSessions(trx, userId, 'logout_all');
      await bumpTokenVersion(trx, userId);
      await recordAuthEvent(trx, {
        action: 'auth.logout_all',
        actor: userId,
        roles,
        target: { type: 'user', id: userId },
        ...origin,
        details: { sessionsEnded: n },
      });
      return n;
    });
    await this.revocations.published(userId);
    return { sessionsEnded };
  }

  async list(userId: string): Promise<SessionRow[]> {
    return liveSessions(this.db, userId, this.refreshTtlDays);
  }

  private async issue(trx: Tx, user: UserRow, sessionId: string): Promise<TokenPair> {
    const roles = await userRoles(trx, user.id);
    const refreshToken = newRefreshToken();
    const refreshExpiresAt = new Date(Date.now() + this.refreshTtlDays * 86_400_000);
    await insertRefreshToken(trx, { hash: hashRefreshToken(refreshToken), sessionId, expiresAt: refreshExpiresAt });
    const accessToken = await this.accessTokens.sign({ userId: user.id, roles, sessionId, tokenVersion: user.token_version });
    return {
      tokenType: 'Bearer',
      accessToken,
      expiresIn: this.accessTokens.ttlSeconds,
      refreshToken,
      refreshExpiresAt: refreshExpiresAt.toISOString(),
      sessionId,
      user: userView(user, roles),
    };
  }
}
