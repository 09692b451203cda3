import type { RequestHandler } from 'express';
import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { can, isStaff, ROLES, type Capability, type Role } from '../domain/capabilities';
import { ApiError } from './errors';

export interface Principal {
  userId: string;
  roles: Role[];
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** `exp` is required: a token that never expires cannot be contained once it leaks. */
const Claims = z.object({ sub: z.string().min(1).max(128), roles: z.array(z.enum(ROLES)).min(1), exp: z.number() });

export interface VerifiedToken {
  principal: Principal;
  expiresAtMs: number;
}

export function signToken(secret: string, principal: Principal, expiresIn: string | number = '12h'): string {
  return jwt.sign({ roles: principal.roles }, secret, {
    algorithm: 'HS256',
    subject: principal.userId,
    expiresIn: expiresIn as jwt.SignOptions['expiresIn'],
  });
}

export function verifyToken(secret: string | KeyObject, token: string): Principal {
  return verifyClaims(secret, token).principal;
}

export function verifyClaims(secret: string | KeyObject, token: string): VerifiedToken {
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

/**
 * Verifies bearer tokens, remembering the ones already verified until they expire: an app sends
 * the same token with every request, and checking its signature and claims each time was a tenth
 * of the API's CPU on order placement. The key is the whole token, signature included, so only
 * that exact token can hit; an entry never outlives the token's `exp`.
 */
export function tokenVerifier(secret: string | KeyObject, maxTokens = 10_000): (token: string) => Principal {
  const verified = new LRUCache<string, Principal>({ max: maxTokens });
  return (token) => {
    const hit = verified.get(token);
    if (hit) return hit;
    const { principal, expiresAtMs } = verifyClaims(secret, token);
    const ttl = expiresAtMs - Date.now();
    if (ttl > 0) verified.set(token, principal, { ttl });
    return principal;
  };
}

/** Reads the bearer token; every /v1 route but the provider webhook needs one. */
export function authenticate(secret: string | KeyObject): RequestHandler {
  const verify = tokenVerifier(secret);
  return (req, _res, next) => {
    const header = req.headers.authorization;
    if (!header?.startsWith('Bearer ')) {
      next(new ApiError(401, 'unauthenticated', 'A bearer token is required'));
      return;
    }
    req.principal = verify(header.slice('Bearer '.length).trim());
    next();
  };
}

export function requirePrincipal(req: { principal?: Principal }): Principal {
  if (!req.principal) throw new ApiError(401, 'unauthenticated', 'A bearer token is required');
  return req.principal;
}

export function assertCan(principal: Principal, capability: Capability | Capability[]): void {
  const anyOf = Array.isArray(capability) ? capability : [capability];
  if (!anyOf.some((c) => can(principal.roles, c))) {
    throw new ApiError(403, 'forbidden', `This needs the ${anyOf.join(' or ')} capability`);
  }
}

/** Acting on someone else's resource needs the `:any` form of the capability. */
export function assertOwnerOr(principal: Principal, ownerId: string, anyCapability: Capability): void {
  if (principal.userId !== ownerId && !can(principal.roles, anyCapability)) {
    throw new ApiError(404, 'not_found', 'Not found'); // do not reveal that it exists
  }
}

export { isStaff };
