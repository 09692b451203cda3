/** What the wallet routes answer with (api/routes/wallet.ts), as documented in the OpenAPI. */
import { z } from 'zod';
import { TOPUP_STATUSES, topupWorkflowId } from '../../contracts/topup';
import type { TopupRow } from '../../db/topups';

export const WalletSchema = z
  .object({
    userId: z.string(),
    currency: z.literal('INR'),
    balance: z.number().int().describe('paise'),
    held: z.number().int().describe('paise reserved by open holds (a resting market order, a leading bid)'),
    available: z.number().int().describe('balance − held: what may be spent now'),
  })
  .meta({ id: 'Wallet', example: { userId: 'usr_asha', currency: 'INR', balance: 50_000, held: 5_500, available: 44_500 } });

const topupExample = {
  topupId: 'tu_8f14e45fceea167a5a36dedd',
  workflowId: 'topup-tu_8f14e45fceea167a5a36dedd',
  status: 'pending' as const,
  amount: 50_000,
  paymentMethod: 'pm_ok',
  failureCode: null,
  failureMessage: null,
};

export const TopupSchema = z
  .object({
    topupId: z.string(),
    workflowId: z.string(),
    status: z.enum(TOPUP_STATUSES),
    amount: z.number().int().describe('paise'),
    paymentMethod: z.string(),
    failureCode: z.string().nullable().describe('why it was declined or failed; null otherwise'),
    failureMessage: z.string().nullable(),
  })
  .meta({ id: 'Topup', example: topupExample });

const ledgerEntryExample = {
  journalId: 1042,
  amount: 50_000,
  reason: 'topup',
  refType: 'topup',
  refId: 'tu_8f14e45fceea167a5a36dedd',
  reversesJournalId: null,
  createdAt: '2027-01-05T08:30:00.000Z',
};

export const LedgerEntrySchema = z
  .object({
    journalId: z.number().int(),
    amount: z.number().int().describe('paise: positive into the wallet, negative out of it'),
    reason: z.string().describe('what the movement was for, e.g. `topup`, `order_charge`, `order_refund`'),
    refType: z.string().nullable().describe('the kind of thing it belongs to (`topup`, `order`…); null for none'),
    refId: z.string().nullable(),
    reversesJournalId: z.number().int().nullable().describe('the journal this one undoes, when it is a reversal'),
    createdAt: z.string().describe('ISO instant'),
  })
  .meta({ id: 'LedgerEntry', example: ledgerEntryExample });

export const LedgerPageSchema = z
  .object({
    entries: z.array(LedgerEntrySchema),
    nextBefore: z.number().int().nullable().describe('pass as ?before= for the next page; null on the last page'),
  })
  .meta({ id: 'LedgerPage', example: { entries: [ledgerEntryExample], nextBefore: null } });

export function topupBody(row: TopupRow): z.output<typeof TopupSchema> {
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
