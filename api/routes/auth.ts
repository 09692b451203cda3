import { z } from 'zod';
import { recordAuthEvent } from '../../db/identity';
import { maskPhone, parseMobileNumber, SESSION_ID } from '../../domain/identity';
import type { Principal } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError } from '../errors';
import { identityOf } from '../identity';
import { cancelDeletion } from '../identity/deletion';
import { phoneRef } from '../identity/keys';
import { REFRESH_TOKEN, type Origin } from '../identity/sessions';
import { SandboxOtpSender } from '../../infra/sandbox-otp-sender';
import type { Request } from 'express';
import type { ApiRouter } from '../router';
import {
  LoginSchema,
  OtpOutboxSchema,
  OtpSentSchema,
  SessionEndedSchema,
  SessionListSchema,
  SessionsEndedSchema,
  TokenPairSchema,
} from '../views/auth';

const Phone = z.string().min(4).max(32).describe('E.164 (+919876543210); without +, an Indian number by default (AUTH_DEFAULT_COUNTRY)');
const Device = z.string().min(1).max(200).describe('what the user will recognise in their device list, e.g. "Pixel 8"');

const OtpBody = z.strictObject({ phone: Phone });
const VerifyBody = z.strictObject({
  phone: Phone,
  code: z.string().regex(/^\d{6}$/, 'must be the 6-digit code'),
  termsVersion: z.string().min(1).max(40).describe('the terms version shown to the user, accepted by logging in'),
  device: Device.optional(),
});
const RefreshBody = z.strictObject({ refreshToken: z.string().regex(REFRESH_TOKEN, 'not a refresh token') });
const SessionParams = z.strictObject({ sessionId: z.string().regex(SESSION_ID, 'not a session id') });
const OutboxQuery = z.strictObject({ phone: Phone });

export function originOf(req: Request): Origin {
  return { ip: req.ip ?? null, userAgent: req.get('user-agent')?.slice(0, 512) ?? null };
}

export function mobileNumber(deps: ApiDeps, input: string): string {
  const phone = parseMobileNumber(input, deps.config.AUTH_DEFAULT_COUNTRY);
  if (!phone)
    throw new ApiError(400, 'invalid_phone', 'This is not a valid mobile number', { defaultCountry: deps.config.AUTH_DEFAULT_COUNTRY });
  return phone;
}

export function otpOf(deps: ApiDeps) {
  const { otp } = identityOf(deps);
  if (!otp) throw new ApiError(503, 'otp_login_disabled', 'Login with a one-time code is not enabled here');
  return otp;
}

function sessionOf(principal: Principal): string {
  if (!principal.sessionId) throw new ApiError(400, 'no_session', 'This token does not belong to a login session');
  return principal.sessionId;
}

/** Phone-OTP login, refresh-token rotation, and the caller's sessions. */
export function registerAuthRoutes(api: ApiRouter): void {
  api.route({
    method: 'post',
    path: '/v1/auth/otp',
    summary: 'Send a one-time login code to a mobile number',
    description:
      'The same answer whether or not the number has an account. At most OTP_MAX_SENDS_PER_WINDOW codes per ' +
      'number per hour, with a growing wait between them, and a limit per client address.',
    tag: 'auth',
    capability: 'public',
    body: OtpBody,
    responses: {
      202: { description: 'Sent; verify it with POST /v1/auth/otp/verify', schema: OtpSentSchema },
      429: { description: 'Too many codes for this number or address (`otp_rate_limited`, `rate_limited`); details.retryAfterSeconds' },
      503: { description: 'Codes are off here, or the SMS provider failed' },
    },
    handler: async ({ body, deps, req }) => {
      const otp = otpOf(deps);
      const phone = mobileNumber(deps, body.phone);
      const origin = originOf(req);
      try {
        await otp.send(phone, origin.ip ?? 'unknown');
      } catch (err) {
        const retryAfter = (err as ApiError).details as { retryAfterSeconds?: number } | undefined;
        if (err instanceof ApiError && retryAfter?.retryAfterSeconds)
          req.res?.setHeader('Retry-After', String(retryAfter.retryAfterSeconds));
        throw err;
      }
      await recordAuthEvent(deps.db, {
        action: 'auth.otp_sent',
        actor: 'anonymous',
        target: { type: 'phone', id: phoneRef(deps.config.JWT_SECRET, phone) },
        ...origin,
        details: { phone: maskPhone(phone), sender: otp.senderName },
      });
      return {
        status: 202,
        body: {
          sent: true,
          phone,
          expiresIn: otp.ttlSeconds,
          resendAfterSeconds: otp.resendBackoffSeconds,
          termsVersion: deps.config.AUTH_TERMS_VERSION,
        } satisfies z.output<typeof OtpSentSchema>,
      };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/auth/otp/verify',
    summary: 'Log in with the code: a token pair, and the user (created on first login)',
    description: "A wrong code counts against the code's tries (OTP_MAX_ATTEMPTS); logging in cancels a pending " + 'account deletion.',
    tag: 'auth',
    capability: 'public',
    body: VerifyBody,
    responses: {
      200: { description: 'Logged in', schema: LoginSchema },
      401: { description: 'The code is wrong, expired or used up (`invalid_code`)' },
      409: { description: 'The terms shown are not the current ones (`terms_outdated`); details.termsVersion is' },
      429: { description: 'Too many attempts from this address' },
    },
    handler: async ({ body, deps, req }) => {
      const otp = otpOf(deps);
      const phone = mobileNumber(deps, body.phone);
      // Before the code is looked at, so a client showing old terms does not burn a try.
      if (body.termsVersion !== deps.config.AUTH_TERMS_VERSION) {
        throw new ApiError(409, 'terms_outdated', 'Show the current terms and send their version', {
          termsVersion: deps.config.AUTH_TERMS_VERSION,
        });
      }
      const origin = originOf(req);
      await otp.check(phone, body.code, origin.ip ?? 'unknown');
      const { deletionPending, ...pair } = await identityOf(deps).sessions.login(
        { phone, termsVersion: body.termsVersion, device: body.device ?? null },
        origin,
      );
      let deletionCancelled = false;
      if (deletionPending) {
        try {
          await cancelDeletion(deps, pair.user.userId, pair.user.userId, 'logged in');
          deletionCancelled = true;
        } catch (err) {
          // Erasure already under way: the login stands, its tokens die with the erasure.
          deps.logger.warn({ err, userId: pair.user.userId }, 'login could not cancel the pending deletion');
        }
      }
      return { status: 200, body: { ...pair, deletionCancelled } satisfies z.output<typeof LoginSchema> };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/auth/refresh',
    summary: 'Trade a refresh token for a new pair; the old refresh token is retired',
    description: 'Presenting a retired refresh token again ends its whole session (both the thief and the owner must ' + 'log in again).',
    tag: 'auth',
    capability: 'public',
    body: RefreshBody,
    responses: {
      200: { description: 'A new pair', schema: TokenPairSchema },
      401: { description: 'Unknown, expired or reused (`invalid_refresh_token`, `refresh_token_expired`, `refresh_token_reused`)' },
    },
    handler: async ({ body, deps, req }) => ({
      status: 200,
      body: await identityOf(deps).sessions.refresh(body.refreshToken, originOf(req)),
    }),
  });

  api.route({
    method: 'post',
    path: '/v1/auth/logout',
    summary: 'End this session: its refresh token and access tokens stop working',
    tag: 'auth',
    capability: 'account:manage',
    responses: {
      200: { description: 'Ended', schema: SessionEndedSchema },
      400: { description: 'The token has no session (a dev or external token)' },
    },
    handler: async ({ principal, deps, req }) => {
      const sessionId = sessionOf(principal);
      await identityOf(deps).sessions.end(principal.userId, sessionId, 'logout', originOf(req), principal.roles);
      return { status: 200, body: { sessionId, ended: true } satisfies z.output<typeof SessionEndedSchema> };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/auth/sessions',
    summary: 'My live sessions (devices)',
    tag: 'auth',
    capability: 'account:manage',
    responses: { 200: { description: 'Newest use first', schema: SessionListSchema } },
    handler: async ({ principal, deps }) => {
      const rows = await identityOf(deps).sessions.list(principal.userId);
      const sessions = rows.map((s) => ({
        sessionId: s.id,
        device: s.device,
        userAgent: s.user_agent,
        ip: s.ip,
        createdAt: new Date(s.created_at).toISOString(),
        lastUsedAt: new Date(s.last_used_at).toISOString(),
        current: s.id === principal.sessionId,
      }));
      return { status: 200, body: { sessions } satisfies z.output<typeof SessionListSchema> };
    },
  });

  api.route({
    method: 'delete',
    path: '/v1/auth/sessions/:sessionId',
    summary: 'Log out another of my devices',
    tag: 'auth',
    capability: 'account:manage',
    params: SessionParams,
    responses: { 200: { description: 'Ended', schema: SessionEndedSchema }, 404: { description: 'No such live session of yours' } },
    handler: async ({ principal, params, deps, req }) => {
      const ended = await identityOf(deps).sessions.end(
        principal.userId,
        params.sessionId,
        'remote_logout',
        originOf(req),
        principal.roles,
      );
      if (!ended) throw new ApiError(404, 'not_found', 'No such live session');
      return { status: 200, body: { sessionId: params.sessionId, ended: true } satisfies z.output<typeof SessionEndedSchema> };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/auth/logout-all',
    summary: 'Log out everywhere: every session ends and every access token stops working at once',
    tag: 'auth',
    capability: 'account:manage',
    responses: { 200: { description: 'Done', schema: SessionsEndedSchema } },
    handler: async ({ principal, deps, req }) => {
      const { sessionsEnded } = await identityOf(deps).sessions.endAll(principal.userId, originOf(req), principal.roles);
      return { status: 200, body: { sessionsEnded } satisfies z.output<typeof SessionsEndedSchema> };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/dev/otp-outbox',
    summary: 'Development only: the codes the sandbox SMS sender "sent" to a number, newest first',
    description: 'Answers 404 when NODE_ENV is production or the sender is not the sandbox.',
    tag: 'auth',
    capability: 'public',
    query: OutboxQuery,
    responses: { 200: { description: 'The newest messages', schema: OtpOutboxSchema } },
    handler: async ({ query, deps, req }) => {
      const { sender } = identityOf(deps);
      if (deps.config.NODE_ENV === 'production' || !(sender instanceof SandboxOtpSender)) {
        // Exactly what an unknown route answers: production has no such endpoint.
        throw new ApiError(404, 'route_not_found', `No route for ${req.method} ${req.path}`);
      }
      return { status: 200, body: { messages: await sender.outbox(mobileNumber(deps, query.phone)) } };
    },
  });
}
