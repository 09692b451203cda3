import { randomInt } from 'node:crypto';
import type { Config } from '../../app/config';
import type { SendLimits } from '../../domain/identity';
import type { OtpSender } from '../../infra/otp-sender';
import type { OtpStore } from '../../infra/otp-store';
import { ApiError } from '../errors';

/** Refused for now: the details say when to try again. */
function limited(code: string, message: string, waitMs: number): ApiError {
  return new ApiError(429, code, message, { retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) });
}

/**
 * Sending and checking one-time login codes. The answers depend only on the phone's and the
 * address's counters, never on whether the phone has an account.
 */
export class OtpLogin {
  private readonly phoneLimits: SendLimits;
  private readonly requestLimits: SendLimits;
  private readonly verifyLimits: SendLimits;
  readonly ttlSeconds: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly store: OtpStore,
    private readonly sender: OtpSender,
    private readonly hash: (phone: string, code: string) => Buffer,
    config: Pick<
      Config,
      | 'OTP_TTL_SECONDS'
      | 'OTP_MAX_ATTEMPTS'
      | 'OTP_SEND_WINDOW_SECONDS'
      | 'OTP_MAX_SENDS_PER_WINDOW'
      | 'OTP_RESEND_BACKOFF_SECONDS'
      | 'OTP_REQUESTS_PER_IP_PER_WINDOW'
      | 'OTP_VERIFIES_PER_IP_PER_WINDOW'
    >,
  ) {
    const windowMs = config.OTP_SEND_WINDOW_SECONDS * 1000;
    this.phoneLimits = { windowMs, maxPerWindow: config.OTP_MAX_SENDS_PER_WINDOW, backoffBaseMs: config.OTP_RESEND_BACKOFF_SECONDS * 1000 };
    this.requestLimits = { windowMs, maxPerWindow: config.OTP_REQUESTS_PER_IP_PER_WINDOW, backoffBaseMs: 0 };
    this.verifyLimits = { windowMs, maxPerWindow: config.OTP_VERIFIES_PER_IP_PER_WINDOW, backoffBaseMs: 0 };
    this.ttlSeconds = config.OTP_TTL_SECONDS;
    this.maxAttempts = config.OTP_MAX_ATTEMPTS;
  }

  get senderName(): string {
    return this.sender.name;
  }

  get resendBackoffSeconds(): number {
    return this.phoneLimits.backoffBaseMs / 1000;
  }

  /** Sends a fresh 6-digit code to `phone` (E.164), replacing any pending one. */
  async send(phone: string, ip: string): Promise<void> {
    const ipWait = await this.store.admit(`ip:send:${ip}`, this.requestLimits);
    if (ipWait > 0) throw limited('rate_limited', 'Too many code requests from this address; retry later', ipWait);
    const phoneWait = await this.store.admit(`phone:${phone}`, this.phoneLimits);
    if (phoneWait > 0)
      throw limited('otp_rate_limited', 'A code was sent to this number recently; wait before asking for another', phoneWait);
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    await this.store.saveCode(phone, this.hash(phone, code), this.ttlSeconds * 1000);
    try {
      await this.sender.send({ phone, code, ttlSeconds: this.ttlSeconds });
    } catch {
      throw new ApiError(503, 'otp_send_failed', 'The code could not be sent; retry shortly');
    }
  }

  /** Resolves when `code` is the pending code of `phone`; it is then used up. */
  async check(phone: string, code: string, ip: string): Promise<void> {
    const ipWait = await this.store.admit(`ip:verify:${ip}`, this.verifyLimits);
    if (ipWait > 0) throw limited('rate_limited', 'Too many attempts from this address; retry later', ipWait);
    const result = await this.store.checkCode(phone, this.hash(phone, code), this.maxAttempts);
    if (result === 'ok') return;
    // One answer for a wrong, expired, used-up or never-sent code: it tells a guesser nothing,
    // not even whether somebody is logging in with that number right now.
    throw new ApiError(401, 'invalid_code', `The code is wrong or has expired; after ${this.maxAttempts} wrong tries a new code is needed`);
  }
}
