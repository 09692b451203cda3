/** What the auction routes answer with (api/routes/auctions.ts), as documented in the OpenAPI. */
import { z } from 'zod';
import { LOT_PHASES, LOT_STATUSES, SHOW_STATUSES } from '../../contracts/auction';
import type { LotView } from '../../domain/auction-view';
import type { OfferRow, ShowRow, StoredBid } from '../../db/auction-lots';

export const exampleLot: LotView = {
  lotId: 'lot_5f1c2a9b7d3e4f60a1b2',
  showId: 'show_0a1b2c3d4e5f60718293',
  sellerId: 'seller_asha',
  productId: 'saree-silk-01',
  title: 'Banarasi silk saree, red',
  status: 'open',
  startingPrice: 50_000,
  buyNowPrice: null,
  reserveMet: true,
  price: 72_000,
  leader: 'Bidder 3fa92c',
  bidCount: 9,
  nextMinimum: 74_000,
  endsAt: '2026-12-02T18:30:10.000Z',
  suddenDeath: false,
  version: 12,
};

export const LotViewSchema = z
  .object({
    lotId: z.string(),
    showId: z.string().nullable(),
    sellerId: z.string(),
    productId: z.string(),
    title: z.string(),
    status: z.enum(LOT_STATUSES),
    startingPrice: z.number().int().describe('paise'),
    buyNowPrice: z.number().int().nullable().describe('paise; null once buy-now is no longer available'),
    reserveMet: z.boolean().nullable().describe('whether the (secret) reserve has been reached; null: no reserve'),
    price: z.number().int().nullable().describe('the current price in paise; null before the first bid'),
    leader: z.string().nullable().describe('the leading bidder under a pseudonym stable within this lot'),
    bidCount: z.number().int(),
    nextMinimum: z.number().int().nullable().describe('the smallest amount the next bid may be (paise); null while the lot takes no bids'),
    endsAt: z.string().nullable().describe('ISO instant; moves later when a bid lands in the last seconds (unless sudden death)'),
    suddenDeath: z.boolean(),
    version: z.number().int().describe('rises with every change; the WebSocket sends only newer versions'),
  })
  .meta({ id: 'Lot', example: exampleLot });

export const ShowSchema = z
  .object({
    showId: z.string(),
    sellerId: z.string(),
    title: z.string(),
    status: z.enum(SHOW_STATUSES),
    workflowId: z.string(),
    startedAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    lots: z.array(LotViewSchema),
  })
  .meta({
    id: 'Show',
    example: {
      showId: 'show_0a1b2c3d4e5f60718293',
      sellerId: 'seller_asha',
      title: 'Friday silk sarees',
      status: 'live',
      workflowId: 'show-show_0a1b2c3d4e5f60718293',
      startedAt: '2026-12-02T18:00:00.000Z',
      endedAt: null,
      lots: [exampleLot],
    },
  });

const bidExample = {
  bidId: 1042,
  lotId: exampleLot.lotId,
  clientBidId: 'b-7f3a',
  kind: 'bid' as const,
  amount: 72_000,
  maxAmount: 80_000,
  seq: 9,
  leading: true,
  priceAfter: 72_000,
  placedAt: '2026-12-02T18:29:58.120Z',
};

export const BidSchema = z
  .object({
    bidId: z.number().int(),
    lotId: z.string(),
    clientBidId: z.string(),
    kind: z.enum(['bid', 'buy_now']),
    amount: z.number().int(),
    maxAmount: z.number().int().describe('a proxy bid’s limit (= amount for a plain bid); only ever shown to its bidder'),
    seq: z.number().int().describe('the bid’s place in the lot’s accepted bids'),
    leading: z.boolean().describe('whether this bid led right after it was accepted'),
    priceAfter: z.number().int(),
    placedAt: z.string(),
  })
  .meta({ id: 'Bid', example: bidExample });

export const BidAcceptedSchema = z
  .object({
    bid: BidSchema,
    lot: LotViewSchema,
    replayed: z.boolean().describe('true when this clientBidId was already accepted: the first answer’s bid, the lot as it is now'),
  })
  .meta({ id: 'BidAccepted', example: { bid: bidExample, lot: exampleLot, replayed: false } });

const publicBidExample = { seq: 9, bidder: 'Bidder 3fa92c', kind: 'bid' as const, priceAfter: 72_000, placedAt: bidExample.placedAt };
const offerExample = {
  offerId: 31,
  lotId: exampleLot.lotId,
  amount: 70_000,
  status: 'offered' as const,
  expiresAt: '2026-12-02T18:45:00.000Z',
};

export const PublicBidSchema = z
  .object({
    seq: z.number().int(),
    bidder: z.string(),
    kind: z.enum(['bid', 'buy_now']),
    priceAfter: z.number().int(),
    placedAt: z.string(),
  })
  .meta({ id: 'PublicBid', example: publicBidExample });

export const PublicBidListSchema = z
  .object({ bids: z.array(PublicBidSchema) })
  .meta({ id: 'PublicBidList', example: { bids: [publicBidExample] } });

export const OfferSchema = z
  .object({
    offerId: z.number().int(),
    lotId: z.string(),
    amount: z.number().int(),
    status: z.enum(['offered', 'accepted', 'declined', 'expired']),
    expiresAt: z.string(),
  })
  .meta({ id: 'SecondChanceOffer', example: offerExample });

export const OfferListSchema = z
  .object({ offers: z.array(OfferSchema) })
  .meta({ id: 'SecondChanceOfferList', example: { offers: [offerExample] } });

export const MyBidsSchema = z
  .object({ bids: z.array(z.object({ bid: BidSchema, lot: LotViewSchema })) })
  .meta({ id: 'MyBids', example: { bids: [{ bid: bidExample, lot: exampleLot }] } });

export const MyWinsSchema = z
  .object({ wins: z.array(z.object({ lot: LotViewSchema, price: z.number().int().describe('paise'), orderId: z.string() })) })
  .meta({
    id: 'MyWins',
    example: { wins: [{ lot: { ...exampleLot, status: 'sold' }, price: 72_000, orderId: 'ord_auction_lot_5f1c2a9b7d3e4f60a1b2' }] },
  });

export const LotStateSchema = z
  .object({ phase: z.enum(LOT_PHASES), lot: LotViewSchema, offer: OfferSchema.omit({ status: true, lotId: true }).nullable() })
  .meta({
    id: 'LotSecondChance',
    example: {
      phase: 'second_chance',
      lot: { ...exampleLot, status: 'unsold' },
      offer: { offerId: offerExample.offerId, amount: offerExample.amount, expiresAt: offerExample.expiresAt },
    },
  });

export const showBody = (row: ShowRow, lots: LotView[]) => ({
  showId: row.id,
  sellerId: row.seller_id,
  title: row.title,
  status: row.status,
  workflowId: `show-${row.id}`,
  startedAt: row.started_at?.toISOString() ?? null,
  endedAt: row.ended_at?.toISOString() ?? null,
  lots,
});

export const bidBody = (b: StoredBid) => ({
  bidId: b.id,
  lotId: b.lot_id,
  clientBidId: b.client_bid_id,
  kind: b.kind,
  amount: b.amount,
  maxAmount: b.max_amount,
  seq: b.seq,
  leading: b.leader_after === b.bidder_id,
  priceAfter: b.price_after,
  placedAt: new Date(b.placed_at).toISOString(),
});

export const offerBody = (o: OfferRow) => ({
  offerId: o.id,
  lotId: o.lot_id,
  amount: o.amount,
  status: o.status,
  expiresAt: o.expires_at.toISOString(),
});
