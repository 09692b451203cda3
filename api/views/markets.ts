/**
 * What the market routes answer with (api/routes/markets.ts), as documented in the OpenAPI. The
 * book is the same view the WebSocket sends (domain/market/feed.ts, api/asyncapi/payloads.ts).
 */
import { z } from 'zod';
import { MARKET_PHASES, MARKET_STATUSES, marketWorkflowId } from '../../contracts/market';
import type { MarketRow } from '../../db/market-queries';

const MARKET_ID = 'mk_4b227777d4dd1fc61c6f';
const ORDER_ID = 'mo_9e107d9d372bb6826bd81d3542a419d6';
const Side = z.enum(['YES', 'NO']);
const Price = z.number().int().describe('paise per contract, 0 to 1000');

const marketExample = {
  marketId: MARKET_ID,
  question: 'Will India win the toss?',
  status: 'open' as const,
  opensAt: '2027-01-26T03:30:00.000Z',
  closesAt: '2027-01-26T03:55:00.000Z',
  feeBps: 200,
  outcome: null,
  resolutionSource: null,
  voidReason: null,
  closedAt: null,
  workflowId: `market-${MARKET_ID}`,
  suspended: false,
  resumesAt: null,
  suspendCancelsOrders: true,
  resumeDelaySeconds: 3,
};

export const MarketSchema = z
  .object({
    marketId: z.string(),
    question: z.string(),
    status: z.enum(MARKET_STATUSES),
    opensAt: z.string(),
    closesAt: z.string().describe('the planned close (moved earlier by a close with `at`)'),
    feeBps: z.number().int(),
    outcome: Side.nullable().describe('once resolved'),
    resolutionSource: z.string().nullable(),
    voidReason: z.string().nullable(),
    closedAt: z.string().nullable().describe('when trading actually stopped (a market closed before it opened keeps its planned closesAt)'),
    workflowId: z.string(),
    suspended: z.boolean().describe('in play: no order matches and new ones are refused with market_suspended (also until resumesAt)'),
    resumesAt: z.string().nullable().describe('after a resume: when trading restarts'),
    suspendCancelsOrders: z.boolean().describe('whether a suspension cancels resting orders (holds released) or keeps them'),
    resumeDelaySeconds: z.number().int().describe('how long after a resume trading restarts, unless the resume says otherwise'),
  })
  .meta({ id: 'Market', example: marketExample });

const TopOfBook = z.object({ buy: Price.nullable(), sell: Price.nullable() });

const bookExample = {
  marketId: MARKET_ID,
  version: 42,
  bids: [{ price: 550, quantity: 20, orders: 3 }],
  asks: [{ price: 600, quantity: 5, orders: 1 }],
  bestBid: 550,
  bestAsk: 600,
  yes: { buy: 600, sell: 550 },
  no: { buy: 450, sell: 400 },
  lastPrice: 550,
  volume: 140,
  suspended: false,
};

export const MarketBookSchema = z
  .object({
    marketId: z.string(),
    version: z.number().int().describe('the engine batch this view reflects; a newer one supersedes it'),
    bids: z
      .array(z.object({ price: Price, quantity: z.number().int(), orders: z.number().int() }))
      .describe('YES bids (buy YES + sell NO), best (highest) first, at most 10 levels'),
    asks: z
      .array(z.object({ price: Price, quantity: z.number().int(), orders: z.number().int() }))
      .describe('YES asks (sell YES + buy NO), best (lowest) first, at most 10 levels'),
    bestBid: Price.nullable(),
    bestAsk: Price.nullable(),
    yes: TopOfBook.describe('what YES costs to buy now, and fetches when sold'),
    no: TopOfBook.describe('the same for NO (1000 − the YES price)'),
    lastPrice: Price.nullable(),
    volume: z.number().int().describe('contracts traded so far'),
    suspended: z.boolean().describe('in play: nothing matches, new orders are refused'),
  })
  .meta({ id: 'MarketBook', description: 'The committed book in YES terms plus the last trade', example: bookExample });

const pricesExample = { yes: bookExample.yes, no: bookExample.no, lastPrice: 550, volume: 140 };

const MarketWithPricesSchema = MarketSchema.extend({
  prices: z.object({ yes: TopOfBook, no: TopOfBook, lastPrice: Price.nullable(), volume: z.number().int() }),
}).meta({ id: 'MarketWithPrices', example: { ...marketExample, prices: pricesExample } });

export const MarketListSchema = z
  .object({ markets: z.array(MarketWithPricesSchema).describe('newest (latest to open) first') })
  .meta({ id: 'MarketList', example: { markets: [{ ...marketExample, prices: pricesExample }] } });

export const MarketWithBookSchema = MarketSchema.extend({ book: MarketBookSchema }).meta({
  id: 'MarketWithBook',
  example: { ...marketExample, book: bookExample },
});

export const MarketAfterActionSchema = MarketSchema.extend({
  phase: z.enum(MARKET_PHASES).describe('the workflow’s phase, finer than status (`voiding` while a void’s refunds are still being paid)'),
  cancelledAtClose: z
    .number()
    .int()
    .optional()
    .describe('resting orders cancelled when trading stopped; absent on a repeat of a finished one'),
  usersPaid: z.number().int().optional().describe('holders paid or refunded so far; absent on a repeat of a finished one'),
}).meta({
  id: 'MarketAfterAction',
  example: { ...marketExample, status: 'closed', closedAt: '2027-01-26T03:50:12.000Z', phase: 'closed', cancelledAtClose: 4, usersPaid: 0 },
});

export const MarketOrderAcceptedSchema = z
  .object({
    orderId: z.string(),
    seq: z.number().int().describe('intake order across all markets'),
    status: z.literal('accepted'),
    replayed: z.boolean().describe('true when this clientOrderId was already accepted in this market: that order'),
  })
  .meta({ id: 'MarketOrderAccepted', example: { orderId: ORDER_ID, seq: 42, status: 'accepted', replayed: false } });

export const MarketOrderCancelSchema = z.object({ orderId: z.string(), cancelRequested: z.literal(true) }).meta({
  id: 'MarketOrderCancelRequested',
  description: 'The engine cancels what is left at its next batch (the order may fill first)',
  example: { orderId: ORDER_ID, cancelRequested: true },
});

const marketOrderExample = {
  orderId: ORDER_ID,
  marketId: MARKET_ID,
  userId: 'usr_asha',
  clientOrderId: 'app-7f3a-0001',
  side: 'YES' as const,
  action: 'BUY' as const,
  price: 550,
  quantity: 10,
  tif: 'GTC' as const,
  seenPrice: 550,
  slippageBps: 500,
  seq: 42,
  status: 'open' as const,
  cancelRequested: false,
  restingPrice: 550,
  remaining: 6,
  filledQty: 4,
  cancelledQty: 0,
  averagePrice: 550,
  fees: 44,
  rejectReason: null,
  currentPrice: null,
  expiresAt: null,
  postOnly: false,
  createdAt: '2027-01-26T03:31:05.000Z',
};

export const MarketOrderSchema = z
  .object({
    orderId: z.string(),
    marketId: z.string(),
    userId: z.string(),
    clientOrderId: z.string(),
    side: Side,
    action: z.enum(['BUY', 'SELL']),
    price: Price.describe('the limit, in the order’s own side terms'),
    quantity: z.number().int(),
    tif: z.enum(['GTC', 'IOC', 'FOK']),
    seenPrice: Price.nullable(),
    slippageBps: z.number().int(),
    seq: z.number().int(),
    status: z.enum(['accepted', 'open', 'filled', 'cancelled', 'expired', 'rejected']),
    cancelRequested: z.boolean(),
    restingPrice: Price.nullable().describe('the price it rests at in the book (own side terms); null when not resting'),
    remaining: z.number().int(),
    filledQty: z.number().int(),
    cancelledQty: z.number().int(),
    averagePrice: z.number().int().nullable().describe('average fill price; null before the first fill'),
    fees: z.number().int().describe('paise'),
    rejectReason: z
      .string()
      .nullable()
      .describe('why the engine refused or ended it (`slippage`, `fok_unfillable`, `post_only_would_take`, `expired`, `market_closed`…)'),
    currentPrice: Price.nullable().describe(
      'for slippage, fok_unfillable and post_only_would_take: the best price on offer then (own side terms)',
    ),
    expiresAt: z.string().nullable().describe('good-till-date: when the engine expires what still rests'),
    postOnly: z.boolean(),
    createdAt: z.string(),
  })
  .meta({ id: 'MarketOrder', example: marketOrderExample });

export const MarketOrderListSchema = z
  .object({ marketId: z.string(), userId: z.string(), orders: z.array(MarketOrderSchema).describe('newest first') })
  .meta({ id: 'MarketOrderList', example: { marketId: MARKET_ID, userId: 'usr_asha', orders: [marketOrderExample] } });

export const MarketPositionsSchema = z
  .object({
    marketId: z.string(),
    userId: z.string(),
    marketStatus: z.enum(MARKET_STATUSES),
    outcome: Side.nullable(),
    valuation: z
      .enum(['last_price', 'outcome', 'void_refund'])
      .describe('last_price while trading or awaiting the result; outcome once resolved; void_refund once voided'),
    positions: z.array(
      z.object({
        side: Side,
        quantity: z.number().int(),
        locked: z.number().int().describe('contracts held by resting SELL orders'),
        cost: z.number().int().describe('net paise put in, fees included'),
        markPrice: Price.nullable().describe('null with no trade yet, and once voided'),
        markValue: z.number().int().nullable(),
      }),
    ),
    netCost: z.number().int(),
    value: z.number().int().nullable().describe('what the contracts are worth (or were paid / will be refunded); null with no price yet'),
    pnl: z.number().int().nullable(),
    settlement: z
      .object({ kind: z.enum(['payout', 'refund']), amount: z.number().int(), contracts: z.number().int() })
      .nullable()
      .describe('once paid out or refunded'),
  })
  .meta({
    id: 'MarketPositions',
    example: {
      marketId: MARKET_ID,
      userId: 'usr_asha',
      marketStatus: 'open',
      outcome: null,
      valuation: 'last_price',
      positions: [{ side: 'YES', quantity: 4, locked: 0, cost: 2_244, markPrice: 550, markValue: 2_200 }],
      netCost: 2_244,
      value: 2_200,
      pnl: -44,
      settlement: null,
    },
  });

export function marketBody(row: MarketRow): z.output<typeof MarketSchema> {
  return {
    marketId: row.id,
    question: row.question,
    status: row.status as z.output<typeof MarketSchema>['status'],
    opensAt: new Date(row.opens_at).toISOString(),
    closesAt: new Date(row.closes_at).toISOString(),
    feeBps: row.fee_bps,
    outcome: row.outcome as z.output<typeof MarketSchema>['outcome'],
    resolutionSource: row.resolution_source,
    voidReason: row.void_reason,
    closedAt: row.closed_at ? new Date(row.closed_at as Date).toISOString() : null,
    workflowId: marketWorkflowId(row.id),
    suspended: row.suspended_at != null || (row.resumes_at != null && new Date(row.resumes_at as Date).getTime() > Date.now()),
    resumesAt: row.resumes_at ? new Date(row.resumes_at as Date).toISOString() : null,
    suspendCancelsOrders: row.suspend_cancels_orders !== false,
    resumeDelaySeconds: (row.resume_delay_seconds as number | undefined) ?? 0,
  };
}
