import { z } from 'zod';
import { topupWorkflowId } from '../../contracts/topup';
import { accounts } from '../../domain/ledger/accounts';
import { getBalance, listEntries } from '../../db/ledger-reports';
import { getTopup, insertTopup, newTopupId, type TopupRow } from '../../db/topups';
import { CustomerId, FlowStatus } from '../../workflows/search-attributes';
import { topupWorkflow } from '../../workflows/topup';
import { assertOwnerOr } from '../auth';
import { notFound } from '../errors';
import type { ApiRouter } from '../router';
import { paymentMethodSchema } from '../schemas';
import { startFlow } from '../flow-start';
import { subjectOf } from '../subject';

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

const WalletView = z.object({
  userId: z.string(),
  currency: z.literal('INR'),
  balance: z.number(),
  held: z.number(),
  available: z.number(),
});
const TopupView = z.object({
  topupId: z.string(),
  workflowId: z.string(),
  status: z.string(),
  amount: z.number(),
  paymentMethod: z.string(),
  failureCode: z.string().nullable(),
  failureMessage: z.string().nullable(),
});

function topupView(row: TopupRow) {
  return {
    topupId: row.id,
    workflowId: topupWorkflowId(row.id),
    status: row.status,
    amount: row.amount,
    paymentMethod: row.payment_method,
    failureCode: row.failure_code,
    failureMessage: row.failure_message,
  };
}

export function registerWalletRoutes(api: ApiRouter): void {
  api.route({
    method: 'get',
    path: '/v1/wallet',
    summary: "The caller's wallet balance (support/admin: any user's with ?userId=)",
    tag: 'wallet',
    capability: ['wallet:read', 'wallet:read:any'],
    query: UserQuery,
    responses: { 200: { description: 'Balance, held and available, in paise', schema: WalletView } },
    handler: async ({ principal, query, deps }) => {
      const userId = subjectOf(principal, query.userId, 'wallet:read:any');
      const b = await getBalance(deps.db, accounts.userWallet(userId));
      return { status: 200, body: { userId, currency: 'INR', balance: b.balance, held: b.held, available: b.available } };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/wallet/ledger',
    summary: 'Wallet movements, newest first (page with ?before=<journalId>)',
    tag: 'wallet',
    capability: ['wallet:read', 'wallet:read:any'],
    query: LedgerQuery,
    responses: { 200: { description: 'A page of ledger entries' } },
    handler: async ({ principal, query, deps }) => {
      const userId = subjectOf(principal, query.userId, 'wallet:read:any');
      const page = await listEntries(deps.db, accounts.userWallet(userId), { limit: query.limit, before: query.before });
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
    responses: { 202: { description: 'Accepted; follow it with GET /v1/wallet/topups/{topupId}', schema: TopupView } },
    handler: async ({ principal, body, deps }) => {
      const topup = { id: newTopupId(), userId: principal.userId, amount: body.amount, paymentMethod: body.paymentMethod };
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
      return { status: 202, body: topupView(row) };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/wallet/topups/:topupId',
    summary: 'A top-up and its status',
    tag: 'wallet',
    capability: ['wallet:read', 'wallet:read:any'],
    params: TopupParams,
    responses: { 200: { description: 'The top-up', schema: TopupView } },
    handler: async ({ principal, params, deps }) => {
      const row = await getTopup(deps.db, params.topupId);
      if (!row) throw notFound('top-up');
      assertOwnerOr(principal, row.user_id, 'wallet:read:any');
      return { status: 200, body: topupView(row) };
    },
  });
}
