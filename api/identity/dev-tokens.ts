import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { ROLES } from '../../domain/capabilities';
import type { Principal, VerifiedToken } from '../auth';
import { ApiError } from '../errors';

/**
 * Development tokens: HS256 signed with JWT_SECRET itself (`npm run token`, the tests' `api.token`),
 * any subject, any roles. Off in production unless AUTH_DEV_TOKENS=true. They stay on jsonwebtoken:
 * its verification is synchronous, which the WebSocket gateway and the tests were built on.
 */

/** `exp` is required: a token that never expires cannot be contained once it leaks. */
const Claims = z.object({ sub: z.string().min(1).max(128), roles: z.array(z.enum(ROLES)).min(1), exp: z.number() });

export function signToken(secret: string, principal: Principal, expiresIn: string | number = '12h'): string {
  return jwt.sign({ roles: principal.roles }, secret, {
    algorithm: 'HS256',
    subject: principal.userId,
    expiresIn: expiresIn as jwt.SignOptions['expiresIn'],
  });
}

export function verifyDevToken(secret: string | KeyObject, token: string): VerifiedToken {
  let payload: unknown;
  try {
    payload = jwt.verify(token, secret, { algorithms: ['HS256'] });
  } catch (err) {
    const expired = err instanceof jwt.TokenExpiredError;
    throw new ApiError(401, expired ? 'token_expired' : 'invalid_token', expired ? 'The token has expired' : 'The token is not valid');
  }
  const claims = Claims.safeParse(payload);
  if (!claims.success) throw new ApiError(401, 'invalid_token', 'The token lacks a subject, roles or an expiry');
  return { principal: { userId: claims.data.sub, roles: claims.data.roles }, expiresAtMs: claims.data.exp * 1000 };
}
