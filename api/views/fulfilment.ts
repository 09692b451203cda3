/**
 * What a delivery looks like in an answer (db/fulfilment-history.ts, db/fulfilment-addresses.ts,
 * domain/fulfilment): its outcome and credit, the reports behind it, the streak and the address.
 * The subscription routes show them (api/routes/subscriptions.ts); named so the delivery routes can too.
 */
import { z } from 'zod';
import { DELIVERY_STATUSES, FAILURE_REASONS } from '../../domain/fulfilment';

const OUTCOME_SOURCES = ['staff', 'ops', 'system'] as const;
const DATE = z.string().describe('YYYY-MM-DD, in the subscription’s time zone');

export const deliveryExample = {
  deliveryId: 'sub_6f1d3c2b9a8e7d6c5b4a3f2e-2027-01-06',
  date: '2027-01-06',
  quantity: 2,
  status: 'failed' as const,
  failureReason: 'no_access' as const,
  outcomeAt: '2027-01-06T01:40:00.000Z',
  source: 'staff' as const,
  corrected: false,
  customerCaused: false,
  credit: { amount: 6_800, journalId: 2051 },
};

export const DeliveryCreditSchema = z
  .object({ amount: z.number().int().describe('paise credited to the wallet'), journalId: z.number().int() })
  .meta({ id: 'DeliveryCredit', description: 'The missed-delivery credit a delivery carries now (wallet refType `delivery`)' });

export const DeliveryRecordSchema = z
  .object({
    deliveryId: z.string().describe('<subscriptionId>-<YYYY-MM-DD>'),
    date: DATE,
    quantity: z.number().int(),
    status: z.enum(DELIVERY_STATUSES),
    failureReason: z.enum(FAILURE_REASONS).nullable(),
    outcomeAt: z.string().nullable().describe('when the reported outcome happened; null before any report'),
    source: z.enum(OUTCOME_SOURCES).nullable().describe('who set the state: the delivery person, ops, or the end-of-day close'),
    corrected: z.boolean().describe('ops corrected it'),
    customerCaused: z.boolean().nullable().describe('whether the failure was the customer’s (it then breaks the streak)'),
    credit: DeliveryCreditSchema.nullable(),
  })
  .meta({ id: 'DeliveryRecord', example: deliveryExample });

export const OutcomeReportSchema = z
  .object({
    revision: z.number().int(),
    status: z.enum(['delivered', 'failed', 'unconfirmed']),
    failureReason: z.enum(FAILURE_REASONS).nullable(),
    note: z.string().nullable(),
    occurredAt: z.string().nullable(),
    source: z.enum(OUTCOME_SOURCES),
    reportedBy: z.string(),
    result: z
      .enum(['applied', 'superseded'])
      .describe('superseded: kept in the history, not applied (a report that happened later had already decided it)'),
    receivedAt: z.string(),
  })
  .meta({ id: 'DeliveryOutcomeReport' });

export const CreditJournalSchema = z
  .object({
    journalId: z.number().int(),
    idempotencyKey: z.string(),
    reason: z.string(),
    amount: z.number().int().describe('paise into (positive) or out of (negative, a reversal) the wallet'),
    reversesJournalId: z.number().int().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'DeliveryCreditJournal' });

export const DeliveryFulfilmentSchema = DeliveryRecordSchema.extend({
  history: z.array(OutcomeReportSchema).describe('every report, oldest first'),
  creditJournals: z.array(CreditJournalSchema).describe('credits issued and reversed, oldest first'),
}).meta({ id: 'DeliveryFulfilment', description: 'What happened to one delivery: its outcome, every report, and the credit journals' });

export const StreakSchema = z
  .object({
    current: z.number().int().describe('delivered scheduled days since the last break'),
    longest: z.number().int(),
    since: DATE.nullable().describe('first delivered day of the current run; null when it is 0'),
    lastDelivered: DATE.nullable(),
    lastBreak: z.object({ date: DATE, cause: z.enum(['customer_failure', 'payment_failure']) }).nullable(),
  })
  .meta({ id: 'DeliveryStreak', example: { current: 12, longest: 40, since: '2026-12-25', lastDelivered: '2027-01-05', lastBreak: null } });

export const DeliveryAddressSchema = z
  .object({
    addressId: z.string(),
    areaId: z.string(),
    customerId: z.string(),
    line: z.string(),
    notes: z.string().nullable(),
    sequence: z.number().int().nullable().describe('its place on the area’s route; null until ops set it'),
  })
  .meta({
    id: 'DeliveryAddress',
    example: {
      addressId: 'adr_5a4b3c2d1e0f9a8b7c6d5e4f',
      areaId: 'default',
      customerId: 'usr_asha',
      line: 'Flat 4B, Lake View, 12th Main',
      notes: 'Ring twice',
      sequence: 7,
    },
  });
