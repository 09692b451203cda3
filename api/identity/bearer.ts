import type { KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Db } from '../../db/knex';
import { userForExternalSubject, userRoles } from '../../db/identity';
import type { BearerCheck, VerifiedToken } from '../auth';
import { ApiError } from '../errors';
import { ACCESS_TOKEN_ISSUER, type AccessTokens } from './access-tokens';
import { verifyDevToken } from './dev-tokens';
import { EXTERNAL_ALGORITHMS, type ExternalIdp } from './external-idp';
import type { TokenRevocations, TrackedSession } from './revocations';

export interface BearerVerifierOptions {
  db: Db;
  accessTokens: AccessTokens;
  /** JWT_SECRET as a key for dev tokens; null when they are off (production by default). */
  devKey: KeyObject | null;
  external: ExternalIdp | null;
  /** null: no revocation check at all (see also withoutRevocationCheck). */
  revocations: TokenRevocations | null;
  /** How long roles read from Postgres for an external token are trusted. */
  rolesCacheMs: number;
  maxTokens?: number;
}

/**
 * A remembered token. For a Mandi access token whose revocation is checked it is its own
 * TrackedSession, which TokenRevocations keeps up to date, so the request path reads this one
 * object. Every entry has the same shape (built only by `entryOf`), so the code reading them
 * stays monomorphic — at a million checks a second that shows.
 */
interface Entry extends TrackedSession {
  verified: VerifiedToken;
}

function entryOf(verified: VerifiedToken, sessionId = '', tokenVersion = 0): Entry {
  return { verified, sessionId, tokenVersion, user: null, current: false, freshUntil: -Infinity, refreshAt: -Infinity };
}

const invalid = () => new ApiError(401, 'invalid_token', 'The token is not valid');

/**
 * Every bearer token the API accepts, told apart by how it is signed: Mandi's own access tokens
 * (HS256 under a derived key, issuer `mandi`), an external provider's (RS256/ES256 against its
 * JWKS), and dev tokens (HS256 with JWT_SECRET, when enabled).
 *
 * A verified token is remembered until it expires: an app sends the same token with every
 * request, and checking its signature and claims each time was a tenth of the API's CPU on order
 * placement. The key is the whole token, signature included, so only that exact token can hit.
 * What is remembered is the signature's verdict; whether the token was revoked since is asked on
 * every request (TokenRevocations, a few seconds of cache).
 */
export class BearerVerifier {
  private readonly tokens: LRUCache<string, Entry>;
  private readonly revocations: TokenRevocations | null;

  constructor(private readonly options: BearerVerifierOptions) {
    // A forgotten token stops being kept up to date.
    this.tokens = new LRUCache<string, Entry>({ max: options.maxTokens ?? 10_000, dispose: (entry) => options.revocations?.detach(entry) });
    this.revocations = options.revocations;
  }

  /** The fast path: a remembered token whose revocation state this instance knows. Else null. */
  cached(token: string): VerifiedToken | null {
    const entry = this.tokens.get(token);
    if (!entry) return null;
    if (entry.user !== null && this.revocations!.isCurrent(entry) !== true) return null;
    return entry.verified;
  }

  /**
   * The same remembered tokens without the revocation check: what bench/auth.ts measures the
   * check against. Two separate verifiers would differ in more than the check (their caches sit
   * elsewhere in memory and were warmed in another order): that alone moved results by 10%.
   */
  withoutRevocationCheck(): BearerCheck {
    return {
      cached: (token) => this.tokens.get(token)?.verified ?? null,
      verify: (token) => this.verify(token),
    };
  }

  async verify(token: string): Promise<VerifiedToken> {
    let entry = this.tokens.get(token);
    if (!entry) {
      const { entry: fresh, cacheUntilMs } = await this.verifyFresh(token);
      const ttl = Math.floor(cacheUntilMs - Date.now());
      if (ttl > 0) this.tokens.set(token, fresh, { ttl });
      else this.options.revocations?.detach(fresh);
      entry = fresh;
    }
    if (entry.user !== null && !(await this.revocations!.check(entry))) {
      throw new ApiError(401, 'token_revoked', 'This token was revoked (logged out); log in again');
    }
    return entry.verified;
  }

  private async verifyFresh(token: string): Promise<{ entry: Entry; cacheUntilMs: number }> {
    let alg: string | undefined;
    let issuer: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
      issuer = decodeJwt(token).iss;
    } catch {
      throw invalid();
    }
    const { accessTokens, devKey, external } = this.options;
    if (alg === 'HS256' && issuer === ACCESS_TOKEN_ISSUER) {
      const c = await accessTokens.verify(token);
      const verified = { principal: { userId: c.userId, roles: c.roles, sessionId: c.sessionId }, expiresAtMs: c.expiresAtMs };
      const entry = entryOf(verified, c.sessionId, c.tokenVersion);
      this.revocations?.attach(entry, c.userId);
      return { entry, cacheUntilMs: c.expiresAtMs };
    }
    if (alg === 'HS256') {
      if (!devKey) throw new ApiError(401, 'dev_tokens_disabled', 'Development tokens are not accepted here');
      const verified = verifyDevToken(devKey, token);
      return { entry: entryOf(verified), cacheUntilMs: verified.expiresAtMs };
    }
    if (external && alg && EXTERNAL_ALGORITHMS.includes(alg)) {
      const t = await external.verify(token);
      const user = await userForExternalSubject(this.options.db, t.issuer, t.subject);
      // Roles from Postgres change (an admin grants one): look again after a few seconds.
      const roles = t.roles ?? (await userRoles(this.options.db, user.userId));
      const cacheUntilMs = t.roles ? t.expiresAtMs : Math.min(t.expiresAtMs, Date.now() + this.options.rolesCacheMs);
      return { entry: entryOf({ principal: { userId: user.userId, roles }, expiresAtMs: t.expiresAtMs }), cacheUntilMs };
    }
    throw invalid();
  }
}
