import { z } from 'zod';
import { findUser, movePhone, recordAuthEvent, userRoles } from '../../db/identity';
import { ApiError } from '../errors';
import { cancelDeletion, deletionStatus, requestDeletion } from '../identity/deletion';
import { userView } from '../identity/sessions';
import type { ApiRouter } from '../router';
import { mobileNumber, originOf, otpOf } from './auth';
import { AccountDeletionSchema, MyAccountSchema, PhoneChangedSchema } from '../views/account';

const PhoneBody = z.strictObject({
  phone: z.string().min(4).max(32).describe('the new number'),
  code: z.string().regex(/^\d{6}$/, 'must be the 6-digit code sent to the new number (POST /v1/auth/otp)'),
});

/** The caller's own account: profile, phone number, and deletion (DPDP). */
export function registerMeRoutes(api: ApiRouter): void {
  api.route({
    method: 'get',
    path: '/v1/me',
    summary: 'My account',
    tag: 'account',
    capability: 'account:manage',
    responses: {
      200: { description: 'The account', schema: MyAccountSchema },
      404: { description: 'The token names no Mandi account (a dev token)' },
    },
    handler: async ({ principal, deps }) => {
      const user = await findUser(deps.db, principal.userId);
      if (!user || user.erased_at) throw new ApiError(404, 'user_not_found', 'No such account');
      const roles = await userRoles(deps.db, user.id);
      return {
        status: 200,
        body: {
          ...userView(user, roles),
          deletionRequestedAt: user.deletion_requested_at ? new Date(user.deletion_requested_at).toISOString() : null,
        } satisfies z.output<typeof MyAccountSchema>,
      };
    },
  });

  api.route({
    method: 'put',
    path: '/v1/me/phone',
    summary: 'Change my phone number, proven with a code sent to the new one',
    description: 'Numbers are recycled: whoever proves they hold a number now gets it; an account that had it before ' + 'loses it.',
    tag: 'account',
    capability: 'account:manage',
    body: PhoneBody,
    responses: {
      200: { description: 'Changed', schema: PhoneChangedSchema },
      401: { description: 'The code is wrong or expired (`invalid_code`)' },
    },
    handler: async ({ principal, body, deps, req }) => {
      const otp = otpOf(deps);
      const phone = mobileNumber(deps, body.phone);
      const origin = originOf(req);
      const user = await findUser(deps.db, principal.userId);
      if (!user || user.erased_at) throw new ApiError(404, 'user_not_found', 'No such account');
      await otp.check(phone, body.code, origin.ip ?? 'unknown');
      await deps.db.transaction(async (trx) => {
        const { previousHolder } = await movePhone(trx, user.id, phone);
        await recordAuthEvent(trx, {
          action: 'auth.phone_changed',
          actor: user.id,
          roles: principal.roles,
          target: { type: 'user', id: user.id },
          ...origin,
        });
        if (previousHolder) {
          await recordAuthEvent(trx, {
            action: 'auth.phone_reassigned',
            actor: user.id,
            target: { type: 'user', id: previousHolder },
            ...origin,
            details: { to: user.id },
          });
        }
      });
      return { status: 200, body: { userId: user.id, phone } satisfies z.output<typeof PhoneChangedSchema> };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/me/deletion',
    summary: 'Delete my account after a grace period (30 days); logging in cancels it',
    description:
      'Refused while money is owed or held (open orders, holds, active subscriptions, pending top-ups, open ' +
      'market positions, a wallet balance): details.blockers says which. After the grace period the ' +
      'personal data is erased; the ledger keeps its rows under the opaque user id.',
    tag: 'account',
    capability: 'account:manage',
    idempotent: true,
    responses: {
      202: { description: 'The grace period runs', schema: AccountDeletionSchema },
      409: { description: 'Money is owed or held (`deletion_blocked`); details.blockers' },
    },
    handler: async ({ principal, deps, req }) => ({
      status: 202,
      body: await requestDeletion(deps, principal.userId, principal.userId, originOf(req)),
    }),
  });

  api.route({
    method: 'get',
    path: '/v1/me/deletion',
    summary: 'Whether my account is to be deleted, and when',
    tag: 'account',
    capability: 'account:manage',
    responses: {
      200: { description: 'The deletion state', schema: AccountDeletionSchema },
      404: { description: 'The token names no Mandi account (a dev token)' },
    },
    handler: async ({ principal, deps }) => ({ status: 200, body: await deletionStatus(deps, principal.userId) }),
  });

  api.route({
    method: 'delete',
    path: '/v1/me/deletion',
    summary: 'Keep my account: cancel the pending deletion',
    tag: 'account',
    capability: 'account:manage',
    responses: {
      200: { description: 'Cancelled', schema: AccountDeletionSchema },
      404: { description: 'No deletion is pending' },
      409: { description: 'Erasure has started (`deletion_in_progress`)' },
    },
    handler: async ({ principal, deps }) => ({
      status: 200,
      body: await cancelDeletion(deps, principal.userId, principal.userId, 'withdrawn by the user'),
    }),
  });
}
