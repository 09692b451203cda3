import type { Capability } from '../domain/capabilities';
import { assertOwnerOr, type Principal } from './auth';

/**
 * Whose data a read is about: the caller's own, or — for staff holding `anyCapability` — the user
 * the query names (`?userId=`, `?customerId=`). Anyone else naming another user gets a 404.
 */
export function subjectOf(principal: Principal, requested: string | undefined, anyCapability: Capability): string {
  const userId = requested ?? principal.userId;
  assertOwnerOr(principal, userId, anyCapability);
  return userId;
}
