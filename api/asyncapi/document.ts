import { MARKET_WS_PATH } from '../ws/gateway';
import * as payloads from './payloads';
import { apiContact, type DocumentOptions } from '../openapi';
import { exampleLot } from '../views/auctions';

const lotId = exampleLot.lotId;
const showId = exampleLot.showId!;

export interface AsyncApiOptions extends DocumentOptions {
  /** config.PUBLIC_URL: the socket is on the same host, over wss when that is https. */
  publicUrl?: string;
  /** config.PORT, for the local server when there is no public URL. */
  port: number;
}

/** One message per frame kind, named after its `op` (client) or `type` (server). */
const MESSAGES = {
  subscribe: { payload: payloads.SubscribeOp, summary: 'Watch a market', example: { op: 'subscribe', market: 'mk_4b227777d4dd1fc61c6f' } },
  unsubscribe: {
    payload: payloads.UnsubscribeOp,
    summary: 'Stop watching a market',
    example: { op: 'unsubscribe', market: 'mk_4b227777d4dd1fc61c6f' },
  },
  auth: { payload: payloads.AuthOp, summary: 'Authenticate with an access token', example: { op: 'auth', token: 'eyJhbGciOiJIUzI1NiIs…' } },
  snapshot: {
    payload: payloads.Snapshot,
    summary: 'The book when a subscription starts (seq 1)',
    example: {
      type: 'snapshot',
      market: 'mk_4b227777d4dd1fc61c6f',
      seq: 1,
      status: 'open',
      view: {
        marketId: 'mk_4b227777d4dd1fc61c6f',
        version: 7,
        bids: [{ price: 550, quantity: 5, orders: 1 }],
        asks: [{ price: 600, quantity: 2, orders: 2 }],
        bestBid: 550,
        bestAsk: 600,
        yes: { buy: 600, sell: 550 },
        no: { buy: 450, sell: 400 },
        lastPrice: 550,
        volume: 3,
        suspended: false,
      },
    },
  },
  update: {
    payload: payloads.Update,
    summary: 'A newer view of the market, with the trades since the last one',
    example: {
      type: 'update',
      market: 'mk_4b227777d4dd1fc61c6f',
      seq: 2,
      view: {
        marketId: 'mk_4b227777d4dd1fc61c6f',
        version: 8,
        bids: [{ price: 550, quantity: 2, orders: 1 }],
        asks: [],
        bestBid: 550,
        bestAsk: null,
        yes: { buy: null, sell: 550 },
        no: { buy: 450, sell: null },
        lastPrice: 550,
        volume: 6,
        suspended: false,
      },
      trades: [{ yesPrice: 550, quantity: 3, kind: 'mint', takerSide: 'NO', takerAction: 'BUY' }],
      publishedAt: 1_764_655_200_000,
    },
  },
  authenticated: {
    payload: payloads.Authenticated,
    summary: 'The token was accepted',
    example: { type: 'authenticated', userId: 'usr_asha', expiresAt: '2026-12-02T09:15:00.000Z' },
  },
  orders: {
    payload: payloads.OrderEvents,
    summary: 'Your orders and fills of one engine batch',
    example: {
      type: 'orders',
      marketId: 'mk_4b227777d4dd1fc61c6f',
      version: 8,
      orders: [
        {
          orderId: 'mo_9e107d9d372bb6826bd81d3542a419d6',
          status: 'filled',
          side: 'NO',
          action: 'BUY',
          quantity: 3,
          filledQty: 3,
          remaining: 0,
          cancelledQty: 0,
          rejectReason: null,
          currentPrice: null,
        },
      ],
      fills: [
        {
          orderId: 'mo_9e107d9d372bb6826bd81d3542a419d6',
          role: 'taker',
          side: 'NO',
          action: 'BUY',
          price: 450,
          yesPrice: 550,
          quantity: 3,
          kind: 'mint',
          fee: 27,
        },
      ],
      seq: 1,
    },
  },
  subscribeLot: { payload: payloads.SubscribeLotOp, summary: 'Watch an auction lot', example: { op: 'subscribe', lot: lotId } },
  subscribeShow: {
    payload: payloads.SubscribeShowOp,
    summary: 'Watch a live show and all its lots',
    example: { op: 'subscribe', show: showId },
  },
  unsubscribeLot: { payload: payloads.UnsubscribeLotOp, summary: 'Stop watching a lot', example: { op: 'unsubscribe', lot: lotId } },
  unsubscribeShow: { payload: payloads.UnsubscribeShowOp, summary: 'Stop watching a show', example: { op: 'unsubscribe', show: showId } },
  lotSnapshot: {
    payload: payloads.LotSnapshot,
    summary: 'The lot when a subscription starts (seq 1)',
    example: { type: 'snapshot', lot: lotId, seq: 1, view: exampleLot },
  },
  lotUpdate: {
    payload: payloads.LotUpdate,
    summary: 'The lot after a bid, an extension, the close or the sale',
    example: {
      type: 'update',
      lot: lotId,
      seq: 2,
      event: 'extended',
      view: { ...exampleLot, price: 74_000, bidCount: 10, nextMinimum: 76_000, endsAt: '2026-12-02T18:30:18.000Z', version: 13 },
      publishedAt: 1_764_700_208_000,
    },
  },
  showSnapshot: {
    payload: payloads.ShowSnapshot,
    summary: 'The show and its lots when a subscription starts (seq 1)',
    example: { type: 'snapshot', show: showId, seq: 1, status: 'live', lots: [exampleLot] },
  },
  showUpdate: {
    payload: payloads.ShowUpdate,
    summary: 'A lot of the show changed, or the show went live, paused or ended',
    example: { type: 'update', show: showId, seq: 2, event: 'show', status: 'paused', publishedAt: 1_764_700_300_000 },
  },
  auctionEvent: {
    payload: payloads.BidderEvent,
    summary: 'Your own bids: winning, outbid, hold released, won, a second-chance offer',
    example: { type: 'auction.outbid', lotId, price: 74_000, nextMinimum: 76_000, seq: 4 },
  },
  error: {
    payload: payloads.ErrorFrame,
    summary: 'A refused frame, or the end of private delivery',
    example: {
      type: 'error',
      code: 'token_expired',
      message: 'The token has expired; send {op:"auth", token} with a fresh one to keep receiving your events',
    },
  },
} as const;

export type MessageName = keyof typeof MESSAGES;

const ref = (name: MessageName) => ({ $ref: `#/channels/ws/messages/${name}` });

function servers(options: AsyncApiOptions) {
  if (!options.publicUrl) {
    return { local: { host: `localhost:${options.port}`, protocol: 'ws', description: 'A local `npm start`' } };
  }
  const url = new URL(options.publicUrl);
  return {
    public: { host: url.host, protocol: url.protocol === 'https:' ? 'wss' : 'ws', description: 'This deployment (the API’s own host)' },
  };
}

const DESCRIPTION = `Live market and auction data and your own order and bid events, on the API's host at \`${MARKET_WS_PATH}\`. Every frame is one JSON object.

- Send \`{"op":"subscribe","market":"mk_…"}\`: you get a \`snapshot\` (seq 1), then \`update\`s (seq 2, 3, … per subscription, no gaps; at most 10 a second; a view never older than one you have). On a gap, resubscribe.
- Send \`{"op":"subscribe","lot":"lot_…"}\` (or \`"show":"show_…"\` for every lot of a live show): a \`snapshot\`, then an \`update\` after every accepted bid, extension, close and sale, each with the whole lot view (price, leader pseudonym, bid count, end, next minimum) and a \`version\`; seq is gap-free per subscription, and a view older than one you have is never sent. On a gap, resubscribe.
- Authenticate with \`?token=<JWT>\` on the URL or \`{"op":"auth","token":"…"}\`: you get \`authenticated\` (with \`expiresAt\`), then \`orders\` events of your own orders and fills and \`auction.*\` events of your own bids, with one per-connection seq. When the token expires you get an \`error\` with code \`token_expired\`; send a fresh token to continue.
- A refused frame is answered with an \`error\` frame; the socket stays open. More than 50 frames a second closes it (code 1008); too many sockets from one address are refused (1013). Unanswered pings close it after 30 s.`;

/** The AsyncAPI 3.0 document of the market WebSocket, served at /asyncapi.json. */
export function asyncApiDocument(options: AsyncApiOptions) {
  const messages = Object.fromEntries(
    Object.entries(MESSAGES).map(([name, m]) => [
      name,
      {
        name,
        title: name,
        summary: m.summary,
        contentType: 'application/json',
        payload: m.payload,
        examples: [{ name, payload: m.example }],
      },
    ]),
  );
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Mandi market and auction WebSocket',
      version: '1.0.0',
      description: DESCRIPTION,
      license: { name: 'Proprietary' },
      contact: apiContact(options),
      externalDocs: {
        description: 'The REST API (OpenAPI 3.1)',
        url: `${options.publicUrl?.replace(/\/+$/, '') ?? `http://localhost:${options.port}`}/openapi.json`,
      },
    },
    defaultContentType: 'application/json',
    servers: servers(options),
    channels: {
      ws: {
        address: MARKET_WS_PATH,
        title: 'Market WebSocket',
        description: 'One socket per app: subscribe to any number of markets, and authenticate once for your own events.',
        messages,
        bindings: {
          ws: {
            method: 'GET',
            query: {
              type: 'object',
              properties: { token: { type: 'string', description: 'an access token (JWT); the same as sending {"op":"auth"} first' } },
              additionalProperties: false,
            },
          },
        },
      },
    },
    operations: {
      subscribeMarket: {
        action: 'receive',
        channel: { $ref: '#/channels/ws' },
        summary: 'A client subscribes to a market',
        messages: [ref('subscribe')],
        reply: { channel: { $ref: '#/channels/ws' }, messages: [ref('snapshot'), ref('error')] },
      },
      unsubscribeMarket: {
        action: 'receive',
        channel: { $ref: '#/channels/ws' },
        summary: 'A client stops watching a market',
        messages: [ref('unsubscribe')],
      },
      authenticate: {
        action: 'receive',
        channel: { $ref: '#/channels/ws' },
        summary: 'A client authenticates for its own order events',
        messages: [ref('auth')],
        reply: { channel: { $ref: '#/channels/ws' }, messages: [ref('authenticated'), ref('error')] },
      },
      sendMarketUpdate: {
        action: 'send',
        channel: { $ref: '#/channels/ws' },
        summary: 'A watched market changed',
        messages: [ref('update')],
      },
      sendOrderEvents: {
        action: 'send',
        channel: { $ref: '#/channels/ws' },
        summary: 'The authenticated user’s orders changed or filled',
        messages: [ref('orders')],
      },
      subscribeAuction: {
        action: 'receive',
        channel: { $ref: '#/channels/ws' },
        summary: 'A client subscribes to an auction lot or a live show',
        messages: [ref('subscribeLot'), ref('subscribeShow')],
        reply: { channel: { $ref: '#/channels/ws' }, messages: [ref('lotSnapshot'), ref('showSnapshot'), ref('error')] },
      },
      unsubscribeAuction: {
        action: 'receive',
        channel: { $ref: '#/channels/ws' },
        summary: 'A client stops watching a lot or a show',
        messages: [ref('unsubscribeLot'), ref('unsubscribeShow')],
      },
      sendAuctionUpdate: {
        action: 'send',
        channel: { $ref: '#/channels/ws' },
        summary: 'A watched lot or show changed',
        messages: [ref('lotUpdate'), ref('showUpdate')],
      },
      sendAuctionEvents: {
        action: 'send',
        channel: { $ref: '#/channels/ws' },
        summary: 'The authenticated user’s bids changed: winning, outbid, hold released, won, second chance',
        messages: [ref('auctionEvent')],
      },
      sendError: {
        action: 'send',
        channel: { $ref: '#/channels/ws' },
        summary: 'A frame was refused, or the token expired',
        messages: [ref('error')],
      },
    },
  };
}

export type AsyncApiDocument = ReturnType<typeof asyncApiDocument>;
