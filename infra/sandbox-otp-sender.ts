import { fakeOtpMessagesTo, insertFakeOtpMessage } from '../db/fake-providers';
import type { Db } from '../db/knex';
import { otpText, type OtpMessage, type OtpSender } from './otp-sender';

export interface SandboxOtpMessage {
  phone: string;
  code: string;
  body: string;
  sentAt: string;
}

/**
 * A sandbox SMS gateway: "sending" records the message in `fake_provider.otp_messages`, so every
 * process (API instances, tests, `curl`) reads the same outbox. Refused in production by config.
 */
export class SandboxOtpSender implements OtpSender {
  readonly name = 'sandbox';

  constructor(private readonly db: Db) {}

  async send(message: OtpMessage): Promise<void> {
    await insertFakeOtpMessage(this.db, { phone: message.phone, code: message.code, body: otpText(message) });
  }

  /** The newest messages to `phone`, newest first. */
  async outbox(phone: string, limit = 10): Promise<SandboxOtpMessage[]> {
    const rows = await fakeOtpMessagesTo(this.db, phone, limit);
    return rows.map((r) => ({ phone: r.phone, code: r.code, body: r.body, sentAt: new Date(r.created_at).toISOString() }));
  }
}
