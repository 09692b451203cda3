import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';

/**
 * Keys derived from JWT_SECRET, one per purpose, so that no token or hash made for one purpose
 * is accepted for another: a dev token (signed with the secret itself) is never a Mandi access
 * token, and a leaked OTP hash says nothing about a token signature.
 */
export function deriveKey(secret: string, purpose: 'access-token' | 'otp-hash' | 'phone-ref'): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'mandi-identity', purpose, 32));
}

export function accessTokenKey(secret: string): KeyObject {
  return createSecretKey(deriveKey(secret, 'access-token'));
}

/**
 * A code has only a million values, so a plain hash of it would be reversed in a blink: it is
 * hashed with a server-side key, and bound to the phone so a code is only ever good for its own.
 */
export function otpHasher(secret: string): (phone: string, code: string) => Buffer {
  const key = deriveKey(secret, 'otp-hash');
  return (phone, code) => createHmac('sha256', key).update(`${phone}\n${code}`).digest();
}

/**
 * A pseudonym of a phone number for the audit log (`phn_…`): the same number always gives the
 * same reference, so support can follow one number's events, but the log itself holds no number.
 */
export function phoneRef(secret: string, phone: string): string {
  return `phn_${createHmac('sha256', deriveKey(secret, 'phone-ref')).update(phone).digest('hex').slice(0, 20)}`;
}
