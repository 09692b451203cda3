import { z } from 'zod';
import { topupWorkflowId } from '../../contracts/topup';
import { accounts } from '../../domain/ledger/accounts';
import { getBalance, listEntries } from '../../db/ledger-reports';
import { getTopup, insertTopup } from '../../db/topups';
import { CustomerId, FlowStatus } from '../../workflows/search-attributes';
import { topupWorkflow } from '../../workflows/topup';
import { assertOwnerOr } from '../auth';
import { notFound } from '../errors';
import type { ApiRouter } from '../router';
import { paymentMethodSchema } from '../schemas';
import { startFlow } from '../flow-start';
import { subjectOf } from '../subject';
import { LedgerPageSchema, TopupSchema, topupBody, WalletSchema } from '../views/wallet';

const MAX_TOPUP_PAISE = 10_000_000; // ₹1,00,000 per top-up

const UserQuery = z.strictObject({ userId: z.string().min(1).max(128).optional() });
const LedgerQuery = UserQuery.extend({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.coerce.number().int().positive().optional(),
});
const TopupBody = z.strictObject({
  amount: z.number().int().min(100).max(MAX_TOPUP_PAISE).describe('paise, ₹1 to ₹1,00,000'),
  paymentMethod: paymentMethodSchema,
});
const TopupParams = z.strictObject({ topupId: z.string().regex(/^tu_[a-z0-9]{8,40}$/) });

export function registerWalletRoutes(api: ApiRouter): void {
  api.route({
    method: 'get',
    path: '/v1/wallet',
    summary: "The caller's wallet balance (support/admin: any user's with ?userId=)",
    tag: 'wallet',
    capability: ['wallet:read', 'wallet:read:any'],
    query: UserQuery,
    responses: { 200: { description: 'Balance, held and available, in paise', schema: WalletSchema } },
    handler: async ({ principal, query, deps }) => {
      const userId = subjectOf(principal, query.userId, 'wallet:read:any');
      const b = await getBalance(deps.db, accounts.userWallet(userId));
      const body: z.output<typeof WalletSchema> = { userId, currency: 'INR', balance: b.balance, held: b.held, available: b.available };
      return { status: 200, body };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/wallet/ledger',
    summary: 'Wallet movements, newest first (page with ?before=<journalId>)',
    tag: 'wallet',
    capability: ['wallet:read', 'wallet:read:any'],
    query: LedgerQuery,
    responses: { 200: { description: 'A page of ledger entries', schema: LedgerPageSchema } },
    handler: async ({ principal, query, deps }) => {
      const userId = subjectOf(principal, query.userId, 'wallet:read:any');
      const page: z.output<typeof LedgerPageSchema> = await listEntries(deps.db, accounts.userWallet(userId), {
        limit: query.limit,
        before: query.before,
      });
      return { status: 200, body: page };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/wallet/topups',
    summary: 'Add money to the wallet through the payment provider',
    tag: 'wallet',
    capability: 'wallet:topup',
    body: TopupBody,
    idempotent: true,
    rateLimit: 'money',
    responses: { 202: { description: 'Accepted; follow it with GET /v1/wallet/topups/{topupId}', schema: TopupSchema } },
    handler: async ({ principal, body, deps, newId }) => {
      const topup = { id: newId('tu_', 24), userId: principal.userId, amount: body.amount, paymentMethod: body.paymentMethod };
      // A retry that took over a dead instance's claim: the first attempt's row and flow stand.
      const earlier = await getTopup(deps.db, topup.id);
      if (earlier) return { status: 202, body: topupBody(earlier) };
      // Row and workflow start together: if the start fails the row is rolled back.
      const row = await deps.db.transaction(async (trx) => {
        const inserted = await insertTopup(trx, topup);
        await startFlow(deps, topupWorkflow, {
          workflowId: topupWorkflowId(topup.id),
          args: [{ topupId: topup.id, userId: topup.userId, amount: topup.amount, paymentMethod: topup.paymentMethod }],
          typedSearchAttributes: [
            { key: CustomerId, value: principal.userId },
            { key: FlowStatus, value: 'pending' },
          ],
        });
        return inserted;
      });
      return { status: 202, body: topupBody(row) };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/wallet/topups/:topupId',
    summary: 'A top-up and its status',
    tag: 'wallet',
    capability: ['wallet:read', 'wallet:read:any'],
    params: TopupParams,
    responses: { 200: { description: 'The top-up', schema: TopupSchema } },
    handler: async ({ principal, params, deps }) => {
      const row = await getTopup(deps.db, params.topupId);
      if (!row) throw notFound('top-up');
      assertOwnerOr(principal, row.user_id, 'wallet:read:any');
      return { status: 200, body: topupBody(row) };
    },
  });
}
