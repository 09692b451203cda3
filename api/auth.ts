import type { RequestHandler } from 'express';
import type { KeyObject } from 'node:crypto';
import { can, isStaff, type Capability, type Role } from '../domain/capabilities';
import type { ApiDeps } from './deps';
import { ApiError } from './errors';
import { identityOf } from './identity';
import { verifyDevToken } from './identity/dev-tokens';
import { LRUCache } from 'lru-cache';

export { signToken } from './identity/dev-tokens';

export interface Principal {
  userId: string;
  roles: Role[];
  /** The login session of a Mandi access token; absent for dev and external tokens. */
  sessionId?: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

export interface VerifiedToken {
  principal: Principal;
  expiresAtMs: number;
}

export function verifyToken(secret: string | KeyObject, token: string): Principal {
  return verifyDevToken(secret, token).principal;
}

/**
 * With a key: verifies a dev token (HS256 with JWT_SECRET), synchronously. With the API's deps:
 * any bearer token the API accepts (Mandi access tokens with their revocation check, an external
 * provider's, dev tokens where enabled) — what the WebSocket gateway uses.
 */
export function verifyClaims(secret: string | KeyObject, token: string): VerifiedToken;
export function verifyClaims(deps: ApiDeps, token: string): Promise<VerifiedToken>;
export function verifyClaims(keyOrDeps: string | KeyObject | ApiDeps, token: string): VerifiedToken | Promise<VerifiedToken> {
  if (typeof keyOrDeps === 'object' && 'config' in keyOrDeps) return identityOf(keyOrDeps).bearer.verify(token);
  return verifyDevToken(keyOrDeps, token);
}

/**
 * Dev tokens, remembered once verified until they expire (see api/identity/bearer.ts for the
 * API's verifier, which does the same for every kind of token).
 */
export function tokenVerifier(secret: string | KeyObject, maxTokens = 10_000): (token: string) => Principal {
  const verified = new LRUCache<string, Principal>({ max: maxTokens });
  return (token) => {
    const hit = verified.get(token);
    if (hit) return hit;
    const { principal, expiresAtMs } = verifyDevToken(secret, token);
    const ttl = expiresAtMs - Date.now();
    if (ttl > 0) verified.set(token, principal, { ttl });
    return principal;
  };
}

/** What authenticate needs: a fast path for remembered tokens, and the full check. */
export interface BearerCheck {
  cached(token: string): VerifiedToken | null;
  verify(token: string): Promise<VerifiedToken>;
}

/**
 * Reads the bearer token; every /v1 route but the public ones (webhooks, login) needs one. A
 * remembered token whose revocation state is known passes without a promise; the rest wait for
 * verification.
 */
export function authenticate(source: ApiDeps | BearerCheck): RequestHandler {
  const bearer: BearerCheck = 'config' in source ? identityOf(source).bearer : source;
  return (req, _res, next) => {
    const header = req.headers.authorization;
    if (!header?.startsWith('Bearer ')) {
      next(new ApiError(401, 'unauthenticated', 'A bearer token is required'));
      return;
    }
    const token = header.slice('Bearer '.length).trim();
    const hit = bearer.cached(token);
    if (hit) {
      req.principal = hit.principal;
      next();
      return;
    }
    bearer.verify(token).then((verified) => {
      req.principal = verified.principal;
      next();
    }, next);
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
