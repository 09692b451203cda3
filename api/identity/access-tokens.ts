// jose stays on 5.x: 6.x is ESM-only, which jest's CommonJS module runtime cannot load (tried:
// "Jest encountered an unexpected token"); move to 6.x with the tests to ESM.
import { errors, jwtVerify, SignJWT } from 'jose';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { ROLES, type Role } from '../../domain/capabilities';
import { SESSION_ID, USER_ID } from '../../domain/identity';
import { ApiError } from '../errors';
import { accessTokenKey } from './keys';

/** Mandi's own access tokens: short-lived HS256 JWTs under a key derived for this purpose only. */
export const ACCESS_TOKEN_ISSUER = 'mandi';
const AUDIENCE = 'mandi-api';
// RFC 9068's type for access tokens: an ID token or a dev token cannot pass for one.
const TYPE = 'at+jwt';

export interface AccessClaims {
  userId: string;
  roles: Role[];
  sessionId: string;
  tokenVersion: number;
}

const Payload = z.object({
  sub: z.string().regex(USER_ID),
  roles: z.array(z.enum(ROLES)).min(1),
  sid: z.string().regex(SESSION_ID),
  tv: z.number().int().min(0),
  exp: z.number(),
});

export class AccessTokens {
  private readonly key: KeyObject;

  constructor(
    secret: string,
    readonly ttlSeconds: number,
  ) {
    this.key = accessTokenKey(secret);
  }

  async sign(claims: AccessClaims): Promise<string> {
    return new SignJWT({ roles: claims.roles, sid: claims.sessionId, tv: claims.tokenVersion })
      .setProtectedHeader({ alg: 'HS256', typ: TYPE })
      .setSubject(claims.userId)
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }

  async verify(token: string): Promise<AccessClaims & { expiresAtMs: number }> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ACCESS_TOKEN_ISSUER,
        audience: AUDIENCE,
        typ: TYPE,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new ApiError(401, 'token_expired', 'The token has expired');
      throw new ApiError(401, 'invalid_token', 'The token is not valid');
    }
    const claims = Payload.safeParse(payload);
    if (!claims.success) throw new ApiError(401, 'invalid_token', 'The token is not valid');
    const c = claims.data;
    return { userId: c.sub, roles: c.roles, sessionId: c.sid, tokenVersion: c.tv, expiresAtMs: c.exp * 1000 };
  }
}
