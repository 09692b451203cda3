/**
 * JSON Schemas (draft-07, the AsyncAPI default schema format) of every frame on `/v1/ws`, as
 * api/ws/gateway.ts sends and accepts them. The payloads come from domain/market/feed.ts (the
 * market view and trades) and activities/market-engine.ts (a user's order and fill events).
 * test/e2e/asyncapi-frames.test.ts validates every frame of a real trading session against these.
 */

const Price = { type: 'integer', minimum: 0, maximum: 1000, description: 'paise per contract' } as const;
const PriceOrNull = { anyOf: [Price, { type: 'null' }] } as const;
const Quantity = { type: 'integer', minimum: 0 } as const;
const Side = { type: 'string', enum: ['YES', 'NO'] } as const;
const Action = { type: 'string', enum: ['BUY', 'SELL'] } as const;
const FillKind = {
  type: 'string',
  enum: ['mint', 'transfer', 'merge'],
  description:
    'mint: a YES buyer and a NO buyer create a pair; transfer: a contract changes hands; merge: a YES and a NO seller destroy a pair',
} as const;
const MarketId = { type: 'string', pattern: '^mk_[a-z0-9]{8,40}$', examples: ['mk_4b227777d4dd1fc61c6f'] } as const;
const Seq = { type: 'integer', minimum: 1 } as const;

const strict = <P extends Record<string, unknown>>(properties: P, description?: string) =>
  ({
    type: 'object',
    ...(description ? { description } : {}),
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  }) as const;

export const Level = strict(
  { price: Price, quantity: { type: 'integer', minimum: 1 }, orders: { type: 'integer', minimum: 1 } },
  'One price level, in YES terms',
);

export const MarketView = strict(
  {
    marketId: MarketId,
    version: { type: 'integer', minimum: 0, description: 'the engine batch this view reflects; a newer one supersedes it' },
    bids: { type: 'array', maxItems: 10, items: Level, description: 'YES bids (buy YES + sell NO), best (highest) first' },
    asks: { type: 'array', maxItems: 10, items: Level, description: 'YES asks (sell YES + buy NO), best (lowest) first' },
    bestBid: PriceOrNull,
    bestAsk: PriceOrNull,
    yes: strict({ buy: PriceOrNull, sell: PriceOrNull }, 'what YES costs to buy now, and fetches when sold'),
    no: strict({ buy: PriceOrNull, sell: PriceOrNull }, 'the same for NO (1000 − the YES price)'),
    lastPrice: PriceOrNull,
    volume: { type: 'integer', minimum: 0, description: 'contracts traded so far' },
    suspended: {
      type: 'boolean',
      description: 'in play: nothing matches and new orders are refused (market_suspended), also in the delay after a resume',
    },
  },
  'The book in YES terms plus the last trade',
);

export const Trade = strict({
  yesPrice: Price,
  quantity: { type: 'integer', minimum: 1 },
  kind: FillKind,
  takerSide: Side,
  takerAction: Action,
});

// ---- client → server

export const SubscribeOp = strict({ op: { const: 'subscribe' }, market: MarketId }, 'Watch a market: a snapshot, then its updates');
export const UnsubscribeOp = strict({ op: { const: 'unsubscribe' }, market: { type: 'string', maxLength: 64 } }, 'Stop watching a market');
export const AuthOp = strict(
  { op: { const: 'auth' }, token: { type: 'string', minLength: 10, maxLength: 4096 } },
  'Authenticate (or re-authenticate before expiry) with an access token; your own order events follow',
);

// ---- server → client

export const Snapshot = strict(
  {
    type: { const: 'snapshot' },
    market: MarketId,
    seq: { const: 1, description: 'always 1: the first message of a subscription' },
    status: { type: 'string', enum: ['scheduled', 'open', 'closed', 'resolved', 'settled', 'voided'] },
    view: MarketView,
  },
  'The committed book when the subscription starts',
);

export const Update = strict(
  {
    type: { const: 'update' },
    market: MarketId,
    seq: {
      type: 'integer',
      minimum: 2,
      description: 'the previous message of this subscription + 1: a gap means a lost message, so resubscribe',
    },
    view: MarketView,
    trades: { type: 'array', maxItems: 50, items: Trade, description: 'trades since the previous update (the latest 50)' },
    publishedAt: { type: 'integer', description: 'when the engine published it, ms since the epoch' },
  },
  'A newer view of the market (at most 10 a second; intermediate states may be skipped, never reordered)',
);

export const Authenticated = strict(
  {
    type: { const: 'authenticated' },
    userId: { type: 'string' },
    expiresAt: { type: 'string', format: 'date-time', description: 'when the token expires: send a fresh one before' },
  },
  'The token was accepted; your order events follow until expiresAt',
);

/** The codes the gateway itself sends; a refused token carries the token check's own code (token_revoked…). */
export const ERROR_CODES = [
  'bad_message',
  'invalid_text',
  'market_not_found',
  'lot_not_found',
  'show_not_found',
  'invalid_token',
  'token_expired',
  'token_revoked',
  'forbidden',
  'internal_error',
] as const;

export const ErrorFrame = {
  type: 'object',
  description:
    'Something the client sent was refused, or private delivery stopped. bad_message: not a known op; invalid_text: a string breaks the text rule; ' +
    'market_not_found (with `market`); invalid_token, token_revoked… (the token check’s code) or forbidden: the auth op was refused; ' +
    'token_expired: the token ran out (sent when it does, or for an expired token), send a fresh one; internal_error: retry. The socket stays open.',
  properties: {
    type: { const: 'error' },
    code: {
      type: 'string',
      pattern: '^[a-z_]+$',
      examples: [...ERROR_CODES],
      description: 'branch on this; a code not listed here is a refused token',
    },
    message: { type: 'string' },
    market: { type: 'string', description: 'the market the error is about (market_not_found)' },
    lot: { type: 'string', description: 'the lot the error is about (lot_not_found)' },
    show: { type: 'string', description: 'the show the error is about (show_not_found)' },
  },
  required: ['type', 'code', 'message'],
  additionalProperties: false,
} as const;

const OrderEvent = strict(
  {
    orderId: { type: 'string', pattern: '^mo_[a-f0-9]{32}$' },
    status: { type: 'string', enum: ['accepted', 'open', 'filled', 'cancelled', 'expired', 'rejected'] },
    side: Side,
    action: Action,
    quantity: { type: 'integer', minimum: 1 },
    filledQty: Quantity,
    remaining: Quantity,
    cancelledQty: Quantity,
    rejectReason: { type: ['string', 'null'], description: 'why the engine refused it (slippage, fok_unfillable…)' },
    currentPrice: { ...PriceOrNull, description: 'for slippage and fok_unfillable: the best price on offer now (own side terms)' },
  },
  'Your order as the engine left it after this batch',
);

const FillEvent = strict(
  {
    orderId: { type: 'string', pattern: '^mo_[a-f0-9]{32}$' },
    role: { type: 'string', enum: ['taker', 'maker'] },
    side: Side,
    action: Action,
    price: { ...Price, description: 'execution price in your order’s own side terms' },
    yesPrice: Price,
    quantity: { type: 'integer', minimum: 1 },
    kind: FillKind,
    fee: { type: 'integer', minimum: 0, description: 'paise' },
  },
  'A fill of one of your orders',
);

export const OrderEvents = strict(
  {
    type: { const: 'orders' },
    marketId: MarketId,
    version: { type: 'integer', minimum: 0, description: 'the engine batch (matches the market view’s version)' },
    orders: { type: 'array', items: OrderEvent },
    fills: { type: 'array', items: FillEvent },
    seq: { ...Seq, description: 'per connection, across markets: 1, 2, 3… with no gaps while authenticated' },
  },
  'Your own orders and fills of one engine batch (authenticated connections only)',
);

// ---- auctions (api/ws/topics.ts, domain/auction-view.ts)

const LotId = { type: 'string', pattern: '^lot_[a-z0-9]{8,40}$', examples: ['lot_5f1c2a9b7d3e4f60a1b2'] } as const;
const ShowId = { type: 'string', pattern: '^show_[a-z0-9]{8,40}$', examples: ['show_0a1b2c3d4e5f60718293'] } as const;
const Paise = { type: 'integer', minimum: 0, description: 'paise' } as const;
const PaiseOrNull = { anyOf: [Paise, { type: 'null' }] } as const;
const LOT_EVENTS = ['opened', 'bid', 'extended', 'closed', 'sold', 'unsold', 'cancelled', 'second_chance'] as const;

export const LotView = strict(
  {
    lotId: LotId,
    showId: { anyOf: [ShowId, { type: 'null' }] },
    sellerId: { type: 'string' },
    productId: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'string', enum: ['scheduled', 'open', 'closed', 'sold', 'unsold', 'cancelled'] },
    startingPrice: Paise,
    buyNowPrice: { ...PaiseOrNull, description: 'null once buy-now is no longer available' },
    reserveMet: { type: ['boolean', 'null'], description: 'whether the (secret) reserve has been reached; null: no reserve' },
    price: { ...PaiseOrNull, description: 'the current price; null before the first bid' },
    leader: { type: ['string', 'null'], description: 'the leading bidder under a pseudonym stable within this lot' },
    bidCount: { type: 'integer', minimum: 0 },
    nextMinimum: { ...PaiseOrNull, description: 'the smallest next bid; null while the lot takes no bids' },
    endsAt: { type: ['string', 'null'], format: 'date-time', description: 'moves later when a bid lands in the last seconds' },
    suddenDeath: { type: 'boolean' },
    version: { type: 'integer', minimum: 0, description: 'rises with every change; a lower one is older' },
  },
  'A lot as every watcher sees it',
);

const LotEvent = { type: 'string', enum: [...LOT_EVENTS], description: 'what changed: the view is the lot after it' } as const;
const UpdateSeq = {
  type: 'integer',
  minimum: 2,
  description: 'the previous message of this subscription + 1: a gap means a lost message, so resubscribe',
} as const;

export const SubscribeLotOp = strict({ op: { const: 'subscribe' }, lot: LotId }, 'Watch a lot: a snapshot, then its updates');
export const SubscribeShowOp = strict(
  { op: { const: 'subscribe' }, show: ShowId },
  'Watch a show: its lots, then every change to any of them',
);
export const UnsubscribeLotOp = strict({ op: { const: 'unsubscribe' }, lot: { type: 'string', maxLength: 64 } }, 'Stop watching a lot');
export const UnsubscribeShowOp = strict({ op: { const: 'unsubscribe' }, show: { type: 'string', maxLength: 64 } }, 'Stop watching a show');

export const LotSnapshot = strict(
  { type: { const: 'snapshot' }, lot: LotId, seq: { const: 1 }, view: LotView },
  'The lot when the subscription starts',
);
export const LotUpdate = strict(
  {
    type: { const: 'update' },
    lot: LotId,
    seq: UpdateSeq,
    event: LotEvent,
    view: LotView,
    publishedAt: { type: 'integer', description: 'when the change was published, ms since the epoch' },
  },
  'A newer view of the lot: after each accepted bid, extension, close and sale (never an older view than one you have)',
);
export const ShowSnapshot = strict(
  {
    type: { const: 'snapshot' },
    show: ShowId,
    seq: { const: 1 },
    status: { type: 'string', enum: ['scheduled', 'live', 'paused', 'ended'] },
    lots: { type: 'array', items: LotView, description: 'in the order they are presented' },
  },
  'The show and its lots when the subscription starts',
);
export const ShowUpdate = {
  type: 'object',
  description: 'A lot of the show changed (event + view), or the show itself did (event `show` + status)',
  oneOf: [
    strict({ type: { const: 'update' }, show: ShowId, seq: UpdateSeq, event: LotEvent, view: LotView, publishedAt: { type: 'integer' } }),
    strict({
      type: { const: 'update' },
      show: ShowId,
      seq: UpdateSeq,
      event: { const: 'show' },
      status: { type: 'string', enum: ['scheduled', 'live', 'paused', 'ended'] },
      publishedAt: { type: 'integer' },
    }),
  ],
} as const;

const BidderSeq = { ...Seq, description: 'per connection, shared with `orders` events: 1, 2, 3… with no gaps while authenticated' };
export const BidderEvent = {
  type: 'object',
  description:
    'Your own auction events (authenticated connections only): auction.winning (you lead), auction.outbid (someone passed your maximum), ' +
    'auction.hold_released (the funds held for your bid are available again), auction.won (the lot is yours: your order follows), ' +
    'auction.second_chance (an offer at your own highest bid, to accept before expiresAt).',
  oneOf: [
    strict({ type: { const: 'auction.winning' }, lotId: LotId, price: Paise, maxAmount: Paise, seq: BidderSeq }),
    strict({ type: { const: 'auction.outbid' }, lotId: LotId, price: Paise, nextMinimum: PaiseOrNull, seq: BidderSeq }),
    strict({ type: { const: 'auction.hold_released' }, lotId: LotId, amount: Paise, seq: BidderSeq }),
    strict({ type: { const: 'auction.won' }, lotId: LotId, price: Paise, orderId: { type: 'string' }, seq: BidderSeq }),
    strict({
      type: { const: 'auction.second_chance' },
      lotId: LotId,
      offerId: { type: 'integer', minimum: 1 },
      amount: Paise,
      expiresAt: { type: 'string', format: 'date-time' },
      seq: BidderSeq,
    }),
  ],
} as const;
