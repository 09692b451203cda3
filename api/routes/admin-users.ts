import { z } from 'zod';
import type { Db, Tx } from '../../db/knex';
import {
  bumpTokenVersion,
  findUser,
  findUserByPhone,
  grantRoles,
  linkSeller,
  liveSessions,
  recordAuthEvent,
  revokeRoles,
  sellerExists,
  sellerIdsOf,
  unlinkSeller,
  userRoles,
  type UserRow,
} from '../../db/identity';
import { GRANTABLE_ROLES, USER_ID } from '../../domain/identity';
import type { Principal } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError } from '../errors';
import { identityOf } from '../identity';
import { cancelDeletion, deletionStatus } from '../identity/deletion';
import { phoneRef } from '../identity/keys';
import type { Origin } from '../identity/sessions';
import { userView } from '../identity/sessions';
import type { ApiRouter } from '../router';
import { mobileNumber, originOf } from './auth';
import { AccountDeletionSchema, SellerLinksSchema, StaffUserSchema, UserRolesSchema, UserSearchSchema } from '../views/account';

const UserParams = z.strictObject({ userId: z.string().regex(USER_ID, 'not a user id (usr_…)') });
const SellerLinkParams = UserParams.extend({ sellerId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -') });
const LookupQuery = z.strictObject({ phone: z.string().min(4).max(32) });
const Grantable = z.array(z.enum(GRANTABLE_ROLES)).max(GRANTABLE_ROLES.length);
const RolesBody = z
  .strictObject({
    grant: Grantable.optional().describe('support and/or admin; customer everybody is, seller comes from a seller link'),
    revoke: Grantable.optional(),
  })
  .refine((b) => (b.grant?.length ?? 0) + (b.revoke?.length ?? 0) > 0, 'send at least one role to grant or revoke')
  .refine((b) => !(b.grant ?? []).some((r) => (b.revoke ?? []).includes(r)), 'a role cannot be granted and revoked at once');
const CancelBody = z.strictObject({ reason: z.string().min(1).max(500) });

async function liveUser(db: Db, userId: string): Promise<UserRow> {
  const user = await findUser(db, userId);
  if (!user || user.erased_at) throw new ApiError(404, 'user_not_found', 'No such user');
  return user;
}

async function staffView(deps: ApiDeps, user: UserRow): Promise<z.output<typeof StaffUserSchema>> {
  const [roles, sellers, sessions] = await Promise.all([
    userRoles(deps.db, user.id),
    sellerIdsOf(deps.db, user.id),
    liveSessions(deps.db, user.id, deps.config.AUTH_REFRESH_TOKEN_TTL_DAYS),
  ]);
  return {
    ...userView(user, roles),
    sellerIds: sellers,
    liveSessions: sessions.length,
    lastLoginAt: user.last_login_at ? new Date(user.last_login_at).toISOString() : null,
    deletionRequestedAt: user.deletion_requested_at ? new Date(user.deletion_requested_at).toISOString() : null,
  };
}

/**
 * Changes a user's roles. It takes effect at once: access tokens carry roles, so the user's all
 * stop working (the token version is bumped in the same transaction); the next refresh has the new ones.
 */
async function changeRoles(
  deps: ApiDeps,
  principal: Principal,
  userId: string,
  origin: Origin,
  details: Record<string, unknown>,
  change: (trx: Tx) => Promise<void>,
) {
  const roles = await deps.db.transaction(async (trx) => {
    await change(trx);
    await bumpTokenVersion(trx, userId);
    const now = await userRoles(trx, userId);
    await recordAuthEvent(trx, {
      action: 'auth.roles_changed',
      actor: principal.userId,
      roles: principal.roles,
      target: { type: 'user', id: userId },
      ...origin,
      details: { ...details, roles: now },
    });
    return now;
  });
  await identityOf(deps).revocations.published(userId);
  return roles;
}

/** Staff: find users, grant roles, link sellers, see and cancel account deletions. */
export function registerAdminUserRoutes(api: ApiRouter): void {
  api.route({
    method: 'get',
    path: '/v1/admin/users',
    summary: 'Support: find the user who holds a phone number',
    tag: 'account',
    capability: 'account:read:any',
    query: LookupQuery,
    responses: { 200: { description: 'The matching users (none or one)', schema: UserSearchSchema } },
    handler: async ({ query, deps, audit }) => {
      const phone = mobileNumber(deps, query.phone);
      const user = await findUserByPhone(deps.db, phone);
      // The audit log names the number by its pseudonym, as every auth event does.
      await audit('user.lookup', { type: 'phone', id: phoneRef(deps.config.JWT_SECRET, phone) }, { found: user?.id ?? null });
      return { status: 200, body: { users: user ? [await staffView(deps, user)] : [] } };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/admin/users/:userId',
    summary: 'Support: a user, their roles, seller links and sessions',
    tag: 'account',
    capability: 'account:read:any',
    params: UserParams,
    responses: { 200: { description: 'The user', schema: StaffUserSchema } },
    handler: async ({ params, deps }) => ({ status: 200, body: await staffView(deps, await liveUser(deps.db, params.userId)) }),
  });

  api.route({
    method: 'post',
    path: '/v1/admin/users/:userId/roles',
    summary: 'Admin: grant or revoke support and admin',
    description: 'The user’s access tokens stop working at once; their next refresh carries the new roles.',
    tag: 'account',
    capability: 'account:admin',
    params: UserParams,
    body: RolesBody,
    responses: {
      200: { description: 'The roles now', schema: UserRolesSchema },
      409: { description: 'An admin may not revoke their own admin role' },
    },
    handler: async ({ principal, params, body, deps, req }) => {
      await liveUser(deps.db, params.userId);
      if (params.userId === principal.userId && body.revoke?.includes('admin')) {
        throw new ApiError(409, 'cannot_revoke_own_admin', 'Another admin must revoke your admin role');
      }
      const roles = await changeRoles(
        deps,
        principal,
        params.userId,
        originOf(req),
        { granted: body.grant ?? [], revoked: body.revoke ?? [] },
        async (trx) => {
          await grantRoles(trx, params.userId, body.grant ?? [], principal.userId);
          await revokeRoles(trx, params.userId, body.revoke ?? []);
        },
      );
      return { status: 200, body: { userId: params.userId, roles } satisfies z.output<typeof UserRolesSchema> };
    },
  });

  api.route({
    method: 'put',
    path: '/v1/admin/users/:userId/sellers/:sellerId',
    summary: 'Admin: link a user to a seller (they get the seller role)',
    tag: 'account',
    capability: 'seller:admin',
    params: SellerLinkParams,
    responses: { 200: { description: 'Linked', schema: SellerLinksSchema }, 404: { description: 'No such user or seller' } },
    handler: async ({ principal, params, deps, req }) => {
      await liveUser(deps.db, params.userId);
      if (!(await sellerExists(deps.db, params.sellerId))) throw new ApiError(404, 'seller_not_found', `No seller ${params.sellerId}`);
      const roles = await changeRoles(deps, principal, params.userId, originOf(req), { linkedSeller: params.sellerId }, (trx) =>
        linkSeller(trx, params.userId, params.sellerId, principal.userId),
      );
      return { status: 200, body: { userId: params.userId, sellerIds: await sellerIdsOf(deps.db, params.userId), roles } };
    },
  });

  api.route({
    method: 'delete',
    path: '/v1/admin/users/:userId/sellers/:sellerId',
    summary: 'Admin: unlink a user from a seller',
    tag: 'account',
    capability: 'seller:admin',
    params: SellerLinkParams,
    responses: { 200: { description: 'Unlinked', schema: SellerLinksSchema }, 404: { description: 'No such link' } },
    handler: async ({ principal, params, deps, req }) => {
      const roles = await changeRoles(deps, principal, params.userId, originOf(req), { unlinkedSeller: params.sellerId }, async (trx) => {
        if (!(await unlinkSeller(trx, params.userId, params.sellerId))) throw new ApiError(404, 'not_found', 'No such link');
      });
      return { status: 200, body: { userId: params.userId, sellerIds: await sellerIdsOf(deps.db, params.userId), roles } };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/admin/users/:userId/deletion',
    summary: 'Support: whether a user’s account is to be deleted, and what blocks it',
    tag: 'account',
    capability: 'account:read:any',
    params: UserParams,
    responses: { 200: { description: 'The deletion state', schema: AccountDeletionSchema } },
    handler: async ({ params, deps }) => ({ status: 200, body: await deletionStatus(deps, params.userId) }),
  });

  api.route({
    method: 'post',
    path: '/v1/admin/users/:userId/deletion/cancel',
    summary: 'Support: cancel a user’s pending account deletion (their wish, given to support)',
    tag: 'account',
    capability: 'account:manage:any',
    params: UserParams,
    body: CancelBody,
    responses: {
      200: { description: 'Cancelled', schema: AccountDeletionSchema },
      404: { description: 'None pending' },
      409: { description: 'Erasure has started' },
    },
    handler: async ({ principal, params, body, deps, audit }) => {
      const view = await cancelDeletion(deps, params.userId, principal.userId, body.reason);
      await audit('account.deletion_cancel', { type: 'user', id: params.userId }, { reason: body.reason });
      return { status: 200, body: view };
    },
  });
}
