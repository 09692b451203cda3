import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { ROLES, type Role } from '../../domain/capabilities';
import { ApiError } from '../errors';

export interface ExternalIdpOptions {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** A claim name, or a dotted path into the payload; unset: roles come from Postgres. */
  rolesClaim?: string;
}

export interface ExternalToken {
  issuer: string;
  subject: string;
  /** Mandi roles the token carries, or null when roles are not read from the token. */
  roles: Role[] | null;
  expiresAtMs: number;
}

/** Asymmetric algorithms only: with a provider's keys, a symmetric one would mean a shared secret. */
export const EXTERNAL_ALGORITHMS = ['RS256', 'ES256'];

/**
 * Tokens of the team's own identity provider (Auth0, Clerk, Supabase Auth, Firebase, Cognito),
 * verified against its JWKS. jose keeps the key set cached (10 minutes) and refetches it, at most
 * every 30 seconds, when a token names a key it does not know — the provider rotated its keys.
 */
export class ExternalIdp {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly options: ExternalIdpOptions) {
    this.keys = createRemoteJWKSet(new URL(options.jwksUrl), {
      cacheMaxAge: 10 * 60_000,
      cooldownDuration: 30_000,
      timeoutDuration: 5_000,
    });
  }

  get issuer(): string {
    return this.options.issuer;
  }

  async verify(token: string): Promise<ExternalToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        algorithms: EXTERNAL_ALGORITHMS,
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new ApiError(401, 'token_expired', 'The token has expired');
      // Not a verdict on the token: the key set could not be fetched (network, timeout).
      if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError)) {
        throw new ApiError(503, 'identity_provider_unavailable', 'The identity provider could not be reached; retry shortly');
      }
      throw new ApiError(401, 'invalid_token', 'The token is not valid');
    }
    if (!payload.sub || payload.sub.length > 256) throw new ApiError(401, 'invalid_token', 'The token lacks a usable subject');
    return {
      issuer: this.options.issuer,
      subject: payload.sub,
      roles: this.options.rolesClaim ? rolesFromClaim(payload, this.options.rolesClaim) : null,
      expiresAtMs: payload.exp! * 1000,
    };
  }
}

/**
 * Reads roles from the claim: the whole name first (Auth0's namespaced `https://example.com/roles`
 * has dots of its own), then as a dotted path (`app_metadata.roles`). An array or a space- or
 * comma-separated string; names that are not Mandi roles are ignored. Everybody is a customer.
 */
export function rolesFromClaim(payload: Record<string, unknown>, claim: string): Role[] {
  let value: unknown = payload[claim];
  if (value === undefined) {
    value = claim
      .split('.')
      .reduce<unknown>((at, part) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined), payload);
  }
  const names = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  const roles = new Set<Role>(['customer']);
  for (const name of names) if (typeof name === 'string' && (ROLES as readonly string[]).includes(name)) roles.add(name as Role);
  return ROLES.filter((r) => roles.has(r));
}
