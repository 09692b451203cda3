import { createSecretKey } from 'node:crypto';
import type { ApiDeps } from '../deps';
import { createOtpSender, type OtpSender } from '../../infra/otp-sender';
import { MemoryOtpStore, RedisOtpStore } from '../../infra/otp-store';
import { AccessTokens } from './access-tokens';
import { BearerVerifier } from './bearer';
import { ExternalIdp } from './external-idp';
import { otpHasher } from './keys';
import { OtpLogin } from './otp';
import { TokenRevocations } from './revocations';
import { Sessions } from './sessions';

/** Everything identity needs, built once per API (its HTTP routes and WebSocket share it). */
export interface Identity {
  bearer: BearerVerifier;
  accessTokens: AccessTokens;
  revocations: TokenRevocations;
  sessions: Sessions;
  /** null when one-time codes are off (OTP_SENDER=disabled). */
  otp: OtpLogin | null;
  sender: OtpSender | null;
}

/** Access tokens live 15 minutes; a session revoked up to that long ago (plus skew) still matters. */
const CLOCK_SKEW_SECONDS = 60;

const built = new WeakMap<ApiDeps, Identity>();

export function identityOf(deps: ApiDeps): Identity {
  let identity = built.get(deps);
  if (!identity) {
    identity = buildIdentity(deps);
    built.set(deps, identity);
  }
  return identity;
}

function buildIdentity(deps: ApiDeps): Identity {
  const { config, db, redis, logger } = deps;
  const accessTokens = new AccessTokens(config.JWT_SECRET, config.AUTH_ACCESS_TOKEN_TTL_SECONDS);
  const revocations = new TokenRevocations({
    db,
    redis,
    logger,
    cacheMs: config.AUTH_REVOCATION_CACHE_MS,
    windowSeconds: config.AUTH_ACCESS_TOKEN_TTL_SECONDS + CLOCK_SKEW_SECONDS,
  });
  const external =
    config.AUTH_JWKS_URL && config.AUTH_ISSUER && config.AUTH_AUDIENCE
      ? new ExternalIdp({
          jwksUrl: config.AUTH_JWKS_URL,
          issuer: config.AUTH_ISSUER,
          audience: config.AUTH_AUDIENCE,
          rolesClaim: config.AUTH_ROLES_CLAIM,
        })
      : null;
  const bearer = new BearerVerifier({
    db,
    accessTokens,
    // A prepared key: given the secret as a string, jsonwebtoken first tries (and fails, with a
    // thrown exception) to read it as a public key on every request — a fifth of the API's CPU.
    devKey: config.AUTH_DEV_TOKENS ? createSecretKey(Buffer.from(config.JWT_SECRET)) : null,
    external,
    revocations,
    rolesCacheMs: Math.max(1000, config.AUTH_REVOCATION_CACHE_MS),
  });
  const sender = createOtpSender(config, db);
  const otp = sender
    ? new OtpLogin(redis ? new RedisOtpStore(redis) : new MemoryOtpStore(), sender, otpHasher(config.JWT_SECRET), config)
    : null;
  const sessions = new Sessions(db, accessTokens, revocations, config.AUTH_REFRESH_TOKEN_TTL_DAYS);
  return { bearer, accessTokens, revocations, sessions, otp, sender };
}
