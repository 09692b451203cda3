/** What the account routes answer with (api/routes/me.ts, api/routes/admin-users.ts), as documented in the OpenAPI. */
import { z } from 'zod';
import { ROLES } from '../../domain/capabilities';
import { UserSchema, userExample } from './auth';

const Roles = z.array(z.enum(ROLES));

export const MyAccountSchema = UserSchema.extend({
  deletionRequestedAt: z.string().nullable().describe('when a pending deletion was asked for; null when none is'),
}).meta({ id: 'MyAccount', example: { ...userExample, deletionRequestedAt: null } });

export const PhoneChangedSchema = z
  .object({ userId: z.string(), phone: z.string().describe('the new number (E.164)') })
  .meta({ id: 'PhoneChanged', example: { userId: userExample.userId, phone: '+919812345678' } });

export const AccountDeletionSchema = z
  .object({
    userId: z.string(),
    workflowId: z.string(),
    status: z
      .enum(['none', 'grace', 'blocked', 'erasing', 'erased', 'cancelled'])
      .describe('none: no deletion requested (or the last one was cancelled)'),
    requestedAt: z.string().nullable(),
    eraseAfter: z.string().nullable().describe('the end of the grace period'),
    blockers: z
      .array(
        z.object({
          kind: z.enum(['open_orders', 'open_holds', 'active_subscriptions', 'pending_topups', 'open_market_positions', 'wallet_balance']),
          count: z.number().int(),
          ids: z.array(z.string()).describe('the first few, to act on'),
          amount: z.number().int().optional().describe('paise, where the blocker is an amount'),
        }),
      )
      .describe('what keeps erasure waiting (status blocked)'),
  })
  .meta({
    id: 'AccountDeletion',
    example: {
      userId: userExample.userId,
      workflowId: `account-deletion-${userExample.userId}`,
      status: 'grace',
      requestedAt: '2027-01-05T08:00:00.000Z',
      eraseAfter: '2027-02-04T08:00:00.000Z',
      blockers: [],
    },
  });

const staffUserExample = {
  ...userExample,
  sellerIds: [],
  liveSessions: 1,
  lastLoginAt: '2027-01-05T08:00:00.000Z',
  deletionRequestedAt: null,
};

export const StaffUserSchema = UserSchema.extend({
  sellerIds: z.array(z.string()).describe('the sellers the user acts for'),
  liveSessions: z.number().int(),
  lastLoginAt: z.string().nullable(),
  deletionRequestedAt: z.string().nullable(),
}).meta({ id: 'StaffUserView', example: staffUserExample });

export const UserSearchSchema = z
  .object({ users: z.array(StaffUserSchema).describe('none or one') })
  .meta({ id: 'UserSearchResult', example: { users: [staffUserExample] } });

export const UserRolesSchema = z
  .object({ userId: z.string(), roles: Roles.describe('the roles now') })
  .meta({ id: 'UserRoles', example: { userId: userExample.userId, roles: ['customer', 'support'] } });

export const SellerLinksSchema = z
  .object({ userId: z.string(), sellerIds: z.array(z.string()), roles: Roles })
  .meta({ id: 'UserSellerLinks', example: { userId: userExample.userId, sellerIds: ['dairy-fresh'], roles: ['customer', 'seller'] } });
