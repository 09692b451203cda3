import type { Config } from '../app/config';
import type { Db } from '../db/knex';
import { SandboxOtpSender } from './sandbox-otp-sender';

/**
 * Delivers one-time login codes: an SMS or WhatsApp provider (MSG91, Gupshup, Twilio…) in
 * production, the sandbox elsewhere. The code reaches the sender in clear once, is never stored by
 * Mandi in clear, and the sender must not log it.
 */
export interface OtpMessage {
  /** E.164, e.g. +919876543210. */
  phone: string;
  code: string;
  /** How long the code is accepted, for the text ("valid for 5 minutes"). */
  ttlSeconds: number;
}

export interface OtpSender {
  readonly name: string;
  /** Resolves once the provider accepted the message; throws when it could not be handed over. */
  send(message: OtpMessage): Promise<void>;
}

/** The text every sender sends; Android's SMS Retriever and iOS autofill read the code from it. */
export function otpText(message: OtpMessage): string {
  return `${message.code} is your Mandi login code. It is valid for ${Math.round(message.ttlSeconds / 60)} minutes. Do not share it with anyone.`;
}

/**
 * The sender OTP_SENDER names, or null when one-time codes are off (a team using its own identity
 * provider). A real provider is added here, behind the same interface.
 */
export function createOtpSender(config: Pick<Config, 'OTP_SENDER'>, db: Db): OtpSender | null {
  switch (config.OTP_SENDER) {
    case 'sandbox':
      return new SandboxOtpSender(db);
    case 'disabled':
      return null;
  }
}
