import type { KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Db } from '../../db/knex';
import { userForExternalSubject, userRoles } from '../../db/identity';
import type { VerifiedToken } from '../auth';
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
  /** null: no revocation check (the benchmark's baseline). */
  revocations: TokenRevocations | null;
  /** How long roles read from Postgres for an external token are trusted. */
  rolesCacheMs: number;
  maxTokens?: number;
}

/**
 * A remembered token. For a Mandi access token with revocations checked it is its own
 * TrackedSession (session, version, and the user's state), so the hot path reads one object.
 */
interface Entry extends Partial<TrackedSession> {
  verified: VerifiedToken;
  tracked: boolean;
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
    this.tokens = new LRUCache<string, Entry>({ max: options.maxTokens ?? 10_000 });
    this.revocations = options.revocations;
  }

  /** The fast path: a remembered token whose revocation state this instance knows. Else null. */
  cached(token: string): VerifiedToken | null {
    const entry = this.tokens.get(token);
    if (!entry) return null;
    if (entry.tracked && this.revocations!.isCurrent(entry as TrackedSession) !== true) return null;
    return entry.verified;
  }

  async verify(token: string): Promise<VerifiedToken> {
    let entry = this.tokens.get(token);
    if (!entry) {
      const { entry: fresh, cacheUntilMs } = await this.verifyFresh(token);
      const ttl = Math.floor(cacheUntilMs - Date.now());
      if (ttl > 0) this.tokens.set(token, fresh, { ttl });
      entry = fresh;
    }
    if (entry.tracked && !(await this.revocations!.check(entry as TrackedSession))) {
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
      const tracked = this.revocations?.track({ userId: c.userId, sessionId: c.sessionId, tokenVersion: c.tokenVersion });
      const entry: Entry = tracked ? { verified, tracked: true, ...tracked } : { verified, tracked: false };
      return { entry, cacheUntilMs: c.expiresAtMs };
    }
    if (alg === 'HS256') {
      if (!devKey) throw new ApiError(401, 'dev_tokens_disabled', 'Development tokens are not accepted here');
      const verified = verifyDevToken(devKey, token);
      return { entry: { verified, tracked: false }, cacheUntilMs: verified.expiresAtMs };
    }
    if (external && alg && EXTERNAL_ALGORITHMS.includes(alg)) {
      const t = await external.verify(token);
      const user = await userForExternalSubject(this.options.db, t.issuer, t.subject);
      // Roles from Postgres change (an admin grants one): look again after a few seconds.
      const roles = t.roles ?? (await userRoles(this.options.db, user.userId));
      const cacheUntilMs = t.roles ? t.expiresAtMs : Math.min(t.expiresAtMs, Date.now() + this.options.rolesCacheMs);
      return { entry: { verified: { principal: { userId: user.userId, roles }, expiresAtMs: t.expiresAtMs }, tracked: false }, cacheUntilMs };
    }
    throw invalid();
  }
}
