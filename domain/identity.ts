/**
 * Identity rules with no I/O: phone numbers, id forms, the roles a user holds, and when the next
 * one-time code may be sent. Used by the API, the activities and the tests alike.
 */
import { isSupportedCountry, parsePhoneNumberWithError, type CountryCode } from 'libphonenumber-js/mobile';
import type { Role } from './capabilities';

/** User ids are opaque and stable; the phone is only an attribute (numbers are recycled). */
export const USER_ID = /^usr_[a-z2-7]{20}$/;
export const SESSION_ID = /^ses_[a-z2-7]{20}$/;

/**
 * The E.164 form of a mobile number (`+919876543210`), or null. Numbers without a `+` are read as
 * `defaultCountry`'s. The mobile metadata rejects landlines: a code sent by SMS needs a mobile.
 */
export function parseMobileNumber(input: string, defaultCountry: string): string | null {
  if (input.length > 32 || !isSupportedCountry(defaultCountry)) return null;
  try {
    const parsed = parsePhoneNumberWithError(input, { defaultCountry: defaultCountry as CountryCode, extract: false });
    return parsed.isValid() ? parsed.number : null;
  } catch {
    return null;
  }
}

/** `+919876543210` → `+91******3210`: enough for a person to recognise, not enough to dial. */
export function maskPhone(e164: string): string {
  if (e164.length <= 7) return '*'.repeat(e164.length);
  return `${e164.slice(0, 3)}${'*'.repeat(e164.length - 7)}${e164.slice(-4)}`;
}

/** Roles an admin grants; `customer` everybody has, `seller` comes from a seller link. */
export const GRANTABLE_ROLES = ['support', 'admin', 'delivery'] as const satisfies readonly Role[];
export type GrantableRole = (typeof GRANTABLE_ROLES)[number];

export function rolesOf(user: { granted: readonly string[]; linkedToSeller: boolean }): Role[] {
  const roles: Role[] = ['customer'];
  if (user.linkedToSeller) roles.push('seller');
  for (const role of GRANTABLE_ROLES) if (user.granted.includes(role)) roles.push(role);
  return roles;
}

export interface SendLimits {
  windowMs: number;
  maxPerWindow: number;
  /** Wait after the first send in the window; each further send doubles it. 0: no back-off. */
  backoffBaseMs: number;
}

/**
 * How long until one more send is allowed, given the times of the sends still in the window
 * (oldest first): 0 when it may go now. At most `maxPerWindow` per window; between sends a wait
 * that grows (30 s, 1 min, 2 min, 4 min with the defaults). infra/otp-store.ts's Redis script
 * implements the same rule.
 */
export function sendWait(sendsInWindow: readonly number[], now: number, limits: SendLimits): number {
  const recent = sendsInWindow.filter((t) => t > now - limits.windowMs);
  if (recent.length >= limits.maxPerWindow) return recent[0] + limits.windowMs - now;
  if (recent.length > 0 && limits.backoffBaseMs > 0) {
    const wait = recent[recent.length - 1] + limits.backoffBaseMs * 2 ** (recent.length - 1) - now;
    if (wait > 0) return wait;
  }
  return 0;
}

/** What checking a code found. `locked`: that was the last allowed try; the code is gone. */
export type CodeCheck = 'ok' | 'wrong' | 'locked' | 'none';

/** Why an account cannot be erased yet: money is owed to or held for the user. */
export interface DeletionBlocker {
  kind: 'open_orders' | 'open_holds' | 'active_subscriptions' | 'pending_topups' | 'open_market_positions' | 'wallet_balance';
  count: number;
  /** The first few ids, for the user and support to act on. */
  ids: string[];
  /** Paise, where the blocker is an amount. */
  amount?: number;
}
