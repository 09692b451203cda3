/** What the login and session routes answer with (api/routes/auth.ts), as documented in the OpenAPI. */
import { z } from 'zod';
import { ROLES } from '../../domain/capabilities';

const SESSION_ID = 'ses_k3m5q7s2u4w6y2a3c4e5';

export const userExample = {
  userId: 'usr_m2k4q6s3u5w7y2a4c6e3',
  phone: '+919876543210',
  roles: ['customer' as const],
  termsVersion: '2026-11-01',
  termsAcceptedAt: '2027-01-05T08:00:00.000Z',
  createdAt: '2027-01-05T08:00:00.000Z',
};

export const UserSchema = z
  .object({
    userId: z.string(),
    phone: z.string().nullable().describe('E.164; null once the number moved to another account'),
    roles: z.array(z.enum(ROLES)).describe('customer always; seller from a seller link; support, admin, delivery as granted'),
    termsVersion: z.string().nullable(),
    termsAcceptedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'User', example: userExample });

const tokenPairExample = {
  tokenType: 'Bearer' as const,
  accessToken:
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c3JfbTJrNHE2czN1NXc3eTJhNGM2ZTMiLCJyb2xlcyI6WyJjdXN0b21lciJdfQ.c2lnbmF0dXJl',
  expiresIn: 900,
  refreshToken: 'mrt_Q2xpZW50UmVmcmVzaFRva2',
  refreshExpiresAt: '2027-02-04T08:00:00.000Z',
  sessionId: SESSION_ID,
  user: userExample,
};

export const TokenPairSchema = z
  .object({
    tokenType: z.literal('Bearer'),
    accessToken: z.string(),
    expiresIn: z.number().int().describe('seconds the access token lives'),
    refreshToken: z.string().describe('one-time: each refresh returns a new one; showing a used one again ends the session'),
    refreshExpiresAt: z.string(),
    sessionId: z.string(),
    user: UserSchema,
  })
  .meta({ id: 'TokenPair', example: tokenPairExample });

export const LoginSchema = TokenPairSchema.extend({
  isNewUser: z.boolean().describe('the account was created by this login'),
  deletionCancelled: z.boolean().describe('a pending account deletion was cancelled by logging in'),
}).meta({ id: 'Login', example: { ...tokenPairExample, isNewUser: true, deletionCancelled: false } });

export const OtpSentSchema = z
  .object({
    sent: z.literal(true),
    phone: z.string().describe('the number as understood (E.164)'),
    expiresIn: z.number().int().describe('seconds the code is valid'),
    resendAfterSeconds: z.number().int().describe('the wait before a second code, doubling with each further one'),
    termsVersion: z.string().describe('the terms to show, whose version verify takes'),
  })
  .meta({
    id: 'OtpSent',
    example: { sent: true, phone: '+919876543210', expiresIn: 300, resendAfterSeconds: 30, termsVersion: '2026-11-01' },
  });

const sessionExample = {
  sessionId: SESSION_ID,
  device: 'Pixel 8',
  userAgent: 'MandiApp/3.2 (Android 15)',
  ip: '203.0.113.24',
  createdAt: '2027-01-05T08:00:00.000Z',
  lastUsedAt: '2027-01-06T07:45:00.000Z',
  current: true,
};

export const SessionSchema = z
  .object({
    sessionId: z.string(),
    device: z.string().nullable(),
    userAgent: z.string().nullable(),
    ip: z.string().nullable(),
    createdAt: z.string(),
    lastUsedAt: z.string(),
    current: z.boolean().describe('the session of the token asking'),
  })
  .meta({ id: 'Session', example: sessionExample });

export const SessionListSchema = z
  .object({ sessions: z.array(SessionSchema).describe('newest use first') })
  .meta({ id: 'SessionList', example: { sessions: [sessionExample] } });

export const SessionEndedSchema = z
  .object({ sessionId: z.string(), ended: z.literal(true) })
  .meta({ id: 'SessionEnded', example: { sessionId: SESSION_ID, ended: true } });

export const SessionsEndedSchema = z
  .object({ sessionsEnded: z.number().int().describe('how many live sessions were ended') })
  .meta({ id: 'SessionsEnded', example: { sessionsEnded: 3 } });

export const OtpOutboxSchema = z
  .object({
    messages: z
      .array(z.object({ phone: z.string(), code: z.string(), body: z.string(), sentAt: z.string() }))
      .describe('newest first, at most 10'),
  })
  .meta({
    id: 'SandboxOtpOutbox',
    example: {
      messages: [
        {
          phone: '+919876543210',
          code: '428913',
          body: '428913 is your Mandi login code. It is valid for 5 minutes. Do not share it with anyone.',
          sentAt: '2027-01-05T07:59:40.000Z',
        },
      ],
    },
  });
