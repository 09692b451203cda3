/** What GET /v1/ops/customers answers (api/routes/customers.ts): a customer's whole story in one read. */
import { z } from 'zod';

const Decision = z.object({
  date: z.string(),
  deliver: z.boolean(),
  quantity: z.number().int(),
  reason: z.string(),
  explanation: z.string(),
});

const exampleSubscription = {
  subscriptionId: 'sub_3c59dc048e8850243be8079a',
  workflowId: 'subscription-sub_3c59dc048e8850243be8079a',
  productId: 'milk-1l',
  quantity: 1,
  status: 'active' as const,
  billingState: 'paid',
  billingReason: null,
  pricePerPeriod: 180_000,
  paymentMethod: 'pm_ok',
  timezone: 'Asia/Kolkata',
  startDate: '2027-01-02',
  endDate: null,
  nextRenewalDate: '2027-02-02',
  nextDeliveries: [
    { date: '2027-01-12', deliver: true, quantity: 1, reason: 'scheduled', explanation: 'Delivers 1: daily' },
    { date: '2027-01-13', deliver: true, quantity: 1, reason: 'scheduled', explanation: 'Delivers 1: daily' },
  ],
  exceptions: [
    {
      id: 'E1',
      type: 'skip',
      from: '2027-01-20',
      to: '2027-01-25',
      reason: 'vacation',
      createdBy: 'usr_asha',
      createdAt: '2027-01-10T10:00:00.000Z',
    },
  ],
};

export const CustomerOverviewSchema = z
  .object({
    userId: z.string(),
    user: z
      .object({
        phone: z.string().nullable(),
        displayName: z.string().nullable(),
        createdAt: z.string(),
        lastLoginAt: z.string().nullable(),
        deletionRequestedAt: z.string().nullable(),
        erasedAt: z.string().nullable(),
      })
      .nullable()
      .describe('null for an id that never logged in (development tokens, imported customers)'),
    roles: z.array(z.string()),
    wallet: z.object({
      balance: z.number().int(),
      held: z.number().int(),
      available: z.number().int(),
      balanceOn: z
        .object({
          date: z.string(),
          balance: z.number().int().nullable().describe('at the end of that date; null for a date still to come'),
          source: z
            .enum(['snapshot', 'journal'])
            .nullable()
            .describe('the nightly snapshot of that date, or summed from the journal when it has none'),
        })
        .nullable()
        .describe('with `balanceOn` only'),
      entries: z.array(
        z.object({
          journalId: z.number().int(),
          amount: z.number().int(),
          reason: z.string(),
          refType: z.string().nullable(),
          refId: z.string().nullable(),
          reversesJournalId: z.number().int().nullable(),
          createdAt: z.string(),
        }),
      ),
    }),
    subscriptions: z.array(
      z.object({
        subscriptionId: z.string(),
        workflowId: z.string(),
        productId: z.string(),
        quantity: z.number().int(),
        status: z.enum(['active', 'cancelled']),
        billingState: z.string(),
        billingReason: z.string().nullable(),
        pricePerPeriod: z.number().int(),
        paymentMethod: z.string(),
        timezone: z.string(),
        startDate: z.string(),
        endDate: z.string().nullable(),
        nextRenewalDate: z.string().nullable(),
        nextDeliveries: z.array(Decision).describe('the next four delivering dates from the earliest changeable one, computed now'),
        exceptions: z.array(z.record(z.string(), z.unknown())).describe('the calendar of pauses, skips, extras and quantity changes'),
      }),
    ),
    orders: z.array(
      z.object({
        orderId: z.string(),
        workflowId: z.string(),
        sellerId: z.string(),
        status: z.string(),
        total: z.number().int(),
        refunded: z.number().int(),
        createdAt: z.string(),
        timeline: z.array(z.object({ type: z.string(), actor: z.string(), at: z.string(), details: z.record(z.string(), z.unknown()) })),
      }),
    ),
    positions: z
      .array(
        z.object({
          marketId: z.string(),
          question: z.string(),
          status: z.string(),
          cost: z.number().int(),
          value: z.number().int().nullable(),
          pnl: z.number().int().nullable(),
          positions: z.array(z.record(z.string(), z.unknown())),
        }),
      )
      .describe('per market, P&L as GET /v1/markets/{marketId}/positions reports it'),
    auctions: z.object({
      bids: z.array(
        z.object({
          lotId: z.string(),
          title: z.string(),
          amount: z.number().int(),
          kind: z.string(),
          placedAt: z.string(),
          lotStatus: z.string(),
        }),
      ),
      wins: z.array(
        z.object({ lotId: z.string(), title: z.string(), price: z.number().int().nullable(), closedAt: z.string().nullable() }),
      ),
    }),
    audit: z.array(
      z.object({
        actor: z.string(),
        roles: z.array(z.string()),
        action: z.string(),
        targetType: z.string(),
        targetId: z.string(),
        details: z.record(z.string(), z.unknown()),
        at: z.string(),
      }),
    ),
  })
  .meta({
    id: 'CustomerOverview',
    example: {
      userId: 'usr_asha',
      user: {
        phone: '+919876543210',
        displayName: null,
        createdAt: '2027-01-01T09:00:00.000Z',
        lastLoginAt: '2027-01-11T08:00:00.000Z',
        deletionRequestedAt: null,
        erasedAt: null,
      },
      roles: ['customer'],
      wallet: {
        balance: 50_000,
        held: 0,
        available: 50_000,
        balanceOn: null,
        entries: [
          {
            journalId: 1042,
            amount: 50_000,
            reason: 'topup',
            refType: 'topup',
            refId: 'tu_8f14e45fceea167a5a36dedd',
            reversesJournalId: null,
            createdAt: '2027-01-05T08:30:00.000Z',
          },
        ],
      },
      subscriptions: [exampleSubscription],
      orders: [],
      positions: [],
      auctions: { bids: [], wins: [] },
      audit: [
        {
          actor: 'usr_agent',
          roles: ['support'],
          action: 'subscription.pause',
          targetType: 'subscription',
          targetId: 'sub_3c59dc048e8850243be8079a',
          details: {},
          at: '2027-01-10T10:00:00.000Z',
        },
      ],
    },
  });
