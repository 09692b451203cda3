/**
 * What the order-type routes of the markets API answer with (batch place and cancel, cancel-all,
 * amend) and the price history (candles), as documented in the OpenAPI.
 */
import { z } from 'zod';

const MARKET_ID = 'mk_4b227777d4dd1fc61c6f';
const ORDER_ID = 'mo_9e107d9d372bb6826bd81d3542a419d6';
const ORDER_ID_2 = 'mo_1679091c5a880faf6fb5e6087eb1b2dc';
const Price = z.number().int().describe('paise per contract, 0 to 1000');

const ItemError = z
  .object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() })
  .describe('why this one was not done; the code and message a single call would have answered with');

export const MarketOrderBatchSchema = z
  .object({
    marketId: z.string(),
    results: z
      .array(
        z.object({
          index: z.number().int().describe('position in the request'),
          status: z.number().int().describe('the HTTP status a single order would have had: 202 accepted, 4xx refused'),
          orderId: z.string().nullable(),
          seq: z.number().int().nullable(),
          replayed: z.boolean().nullable(),
          error: ItemError.nullable(),
        }),
      )
      .describe('one per order, in request order; each stands alone (a refused order does not affect the others)'),
  })
  .meta({
    id: 'MarketOrderBatch',
    example: {
      marketId: MARKET_ID,
      results: [
        { index: 0, status: 202, orderId: ORDER_ID, seq: 42, replayed: false, error: null },
        {
          index: 1,
          status: 409,
          orderId: null,
          seq: null,
          replayed: null,
          error: { code: 'insufficient_funds', message: 'your available balance does not cover this order' },
        },
      ],
    },
  });

export const MarketCancelBatchSchema = z
  .object({
    marketId: z.string(),
    results: z
      .array(z.object({ orderId: z.string(), cancelRequested: z.boolean(), error: ItemError.nullable() }))
      .describe('in request order'),
  })
  .meta({
    id: 'MarketCancelBatch',
    example: {
      marketId: MARKET_ID,
      results: [
        { orderId: ORDER_ID, cancelRequested: true, error: null },
        { orderId: ORDER_ID_2, cancelRequested: false, error: { code: 'order_not_open', message: 'the order is no longer open' } },
      ],
    },
  });

export const MarketCancelAllSchema = z
  .object({
    marketId: z.string().nullable().describe('the market, or null for every open market'),
    cancelRequested: z.number().int().describe('orders queued for cancelling'),
    orders: z.array(z.object({ orderId: z.string(), marketId: z.string() })),
  })
  .meta({
    id: 'MarketCancelAll',
    description: 'The engines cancel what is left of each at their next batch (an order may fill first)',
    example: { marketId: MARKET_ID, cancelRequested: 1, orders: [{ orderId: ORDER_ID, marketId: MARKET_ID }] },
  });

export const MarketOrderAmendSchema = z
  .object({
    orderId: z.string().describe('the order amended'),
    kind: z
      .enum(['decrease', 'replace'])
      .describe('decrease: the quantity went down in place; replace: a price change or an increase, done as cancel + new order'),
    keepsPriority: z
      .boolean()
      .describe('true for a decrease (it keeps its place in the queue); false for a replace (the new order queues last)'),
    quantity: z.number().int().describe('the order’s total quantity asked for (filled included)'),
    replacement: z
      .object({ orderId: z.string(), seq: z.number().int(), status: z.literal('accepted'), replayed: z.boolean() })
      .nullable()
      .describe('the new order, for a replace'),
  })
  .meta({
    id: 'MarketOrderAmend',
    example: { orderId: ORDER_ID, kind: 'decrease', keepsPriority: true, quantity: 6, replacement: null },
  });

export const MarketCandlesSchema = z
  .object({
    marketId: z.string(),
    interval: z.enum(['1s', '1m', '5m']),
    from: z.string(),
    to: z.string(),
    lastPrice: Price.nullable().describe('the last traded YES price, whenever it traded'),
    candles: z
      .array(
        z.object({
          start: z.string().describe('bucket start, aligned to the interval from the Unix epoch'),
          open: Price,
          high: Price,
          low: Price,
          close: Price,
          volume: z.number().int().describe('contracts traded'),
          trades: z.number().int(),
        }),
      )
      .describe('YES prices; one per interval that saw a trade, oldest first (an interval without trades has none)'),
  })
  .meta({
    id: 'MarketCandles',
    example: {
      marketId: MARKET_ID,
      interval: '1m',
      from: '2027-01-26T03:30:00.000Z',
      to: '2027-01-26T03:35:00.000Z',
      lastPrice: 600,
      candles: [{ start: '2027-01-26T03:31:00.000Z', open: 550, high: 600, low: 550, close: 600, volume: 40, trades: 3 }],
    },
  });

export const MarketTradesSchema = z
  .object({
    marketId: z.string(),
    trades: z
      .array(
        z.object({
          seq: z.number().int().describe("the engine batch that made it (the market's book sequence)"),
          idx: z.number().int().describe('its place within that batch'),
          price: Price.describe('YES price'),
          quantity: z.number().int(),
          takerSide: z.enum(['YES', 'NO']).describe('the side of the order that took liquidity'),
          takerAction: z.enum(['BUY', 'SELL']),
          at: z.string(),
        }),
      )
      .describe('newest first'),
  })
  .meta({
    id: 'MarketTrades',
    example: {
      marketId: MARKET_ID,
      trades: [{ seq: 812, idx: 0, price: 600, quantity: 10, takerSide: 'YES', takerAction: 'BUY', at: '2027-01-26T03:34:12.402Z' }],
    },
  });
