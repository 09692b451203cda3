import type { Db } from '../db/knex';
import { isLinkedToSeller } from '../db/identity';
import { can, type Capability } from '../domain/capabilities';
import type { Principal } from './auth';
import { notFound } from './errors';

/**
 * Who may act for a seller: a user an admin linked to it (`seller_users`, which is also what
 * gives them the seller role), a development token whose subject is the seller id itself, or
 * staff holding `anyCapability`. Anyone else is told the seller does not exist, as for any
 * resource that is not theirs.
 */
export async function assertActsForSeller(db: Db, principal: Principal, sellerId: string, anyCapability: Capability): Promise<void> {
  if (can(principal.roles, anyCapability)) return;
  if (!(await isSellerSelf(db, principal, sellerId))) throw notFound('seller');
}

/** The principal is the seller (linked to it, or a dev token naming it), staff powers aside. */
export async function isSellerSelf(db: Db, principal: Principal, sellerId: string): Promise<boolean> {
  if (principal.userId === sellerId) return true;
  return principal.roles.includes('seller') && (await isLinkedToSeller(db, principal.userId, sellerId));
}
