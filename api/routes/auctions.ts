/**
 * Live auctions: shows (a seller's live session) and lots. A bid is decided and recorded by the
 * API in one database transaction (db/auction-bids.ts) — durable, with its funds held, before the
 * 2xx — then published to every watcher; the lot's workflow owns only the clock and what follows
 * the close. Show and lot lifecycle actions go to their workflows.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { z } from 'zod';
import {
  auctionWorkflowId,
  endShowUpdate,
  lotChangedSignal,
  lotStateQuery,
  offerSecondChanceUpdate,
  pauseShowUpdate,
  resumeShowUpdate,
  secondChanceAnsweredSignal,
  showWorkflowId,
  startLotUpdate,
  startShowUpdate,
  type LotState,
  type ShowActionInput,
  type ShowState,
} from '../../contracts/auction';
import type { BidAccepted } from '../../db/auction-bids';
import { createAuctionIntake, type AuctionIntake } from '../auction-intake';
import {
  answerOffer,
  bidsOfBidder,
  bidsOfLot,
  cancelLot,
  findLot,
  findShow,
  insertLot,
  insertShow,
  lotsOfShow,
  lotsWonBy,
  newLotId,
  newShowId,
  offersOf,
  viewOfLot,
  type LotRow,
} from '../../db/auction-lots';
import { findProduct, findSeller } from '../../db/checkout';
import { bidderAlias } from '../../domain/auction-view';
import { publishLotChange } from '../../infra/auction-feed';
import { auctionLotWorkflow, auctionShowWorkflow } from '../../workflows/auction';
import { AuctionId, FlowStatus, SellerId } from '../../workflows/search-attributes';
import type { ApiDeps } from '../deps';
import { ApiError, notFound } from '../errors';
import { startFlow } from '../flow-start';
import { boundedInstant } from '../instants';
import type { ApiRouter } from '../router';
import { assertActsForSeller, isSellerSelf } from '../seller-access';
import type { Principal } from '../auth';
import {
  BidAcceptedSchema,
  LotStateSchema,
  LotViewSchema,
  MyBidsSchema,
  MyWinsSchema,
  OfferListSchema,
  OfferSchema,
  PublicBidListSchema,
  ShowSchema,
  bidBody,
  offerBody,
  showBody,
} from '../views/auctions';

const SellerIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -');
const Paise = z.number().int().min(100).max(100_000_000).describe('paise');
const ShowParams = z.strictObject({ showId: z.string().regex(/^show_[a-z0-9]{8,40}$/) });
const LotParams = z.strictObject({ lotId: z.string().regex(/^lot_[a-z0-9]{8,40}$/) });
const ShowLotParams = ShowParams.extend(LotParams.shape);
const OfferParams = z.strictObject({
  offerId: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 53 - 1),
});
const Page = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) });
const BidPage = Page.extend({ before: z.coerce.number().int().min(1).optional() });

const ShowBody = z.strictObject({ sellerId: SellerIdSchema, title: z.string().min(1).max(200) });
const LotBody = z
  .strictObject({
    sellerId: SellerIdSchema,
    productId: SellerIdSchema,
    showId: ShowParams.shape.showId.optional().describe('present the lot in this show (it opens on startLot)'),
    startsAt: boundedInstant().optional().describe('ISO instant a lot outside a show opens at on its own'),
    title: z.string().min(1).max(200).optional().describe("default: the product's name"),
    startingPrice: Paise,
    reservePrice: Paise.optional().describe('kept secret; below it the lot does not sell'),
    buyNowPrice: Paise.optional().describe('ends the lot at once while no bid has reached the reserve'),
    durationSeconds: z.number().int().min(1).max(86_400),
    softCloseSeconds: z
      .number()
      .int()
      .min(1)
      .max(300)
      .optional()
      .describe('a bid this close to the end moves it to now + this; default 10'),
    suddenDeath: z.boolean().optional().describe('no extension: the lot ends on time whatever comes in'),
  })
  .refine((b) => (b.showId === undefined) !== (b.startsAt === undefined), {
    message: 'give showId (presented in a show) or startsAt (on its own schedule), not both',
    path: ['startsAt'],
  });
const BidBody = z.strictObject({
  amount: Paise,
  maxAmount: Paise.optional().describe('a proxy bid: bids for you up to this, one increment above anyone else'),
  clientBidId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .describe('your id for this bid: sending it again returns the first answer'),
});
const BuyNowBody = BidBody.pick({ clientBidId: true });

const SHOW_ACTIONS = {
  start: { update: startShowUpdate, summary: 'Go live', operation: 'start' },
  pause: { update: pauseShowUpdate, summary: 'Pause (no new lots start; open ones run to their end)', operation: 'pause' },
  resume: { update: resumeShowUpdate, summary: 'Resume after a pause', operation: 'resume' },
  end: { update: endShowUpdate, summary: 'End the show (lots never presented are cancelled)', operation: 'end' },
} as const;

const alreadyOver = (what: string) => new ApiError(409, `${what}_finished`, `the ${what} has already finished`);

async function updateFlow<S, A>(deps: ApiDeps, workflowId: string, what: string, update: UpdateDefinition<S, [A]>, arg: A): Promise<S> {
  try {
    return await deps.temporal.workflow.getHandle(workflowId).executeUpdate(update, { args: [arg] });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw alreadyOver(what);
    throw err;
  }
}

/** Tells the lot's workflow its row changed (buy-now closed it, it was cancelled), so it acts now rather than at its timer. */
async function nudgeLot(deps: ApiDeps, lotId: string): Promise<void> {
  await deps.temporal.workflow
    .getHandle(auctionWorkflowId(lotId))
    .signal(lotChangedSignal)
    .catch((err) => {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    });
}

async function lotOr404(deps: ApiDeps, lotId: string): Promise<LotRow> {
  const row = await findLot(deps.db, lotId);
  if (!row) throw notFound('lot');
  return row;
}

async function showWithLots(deps: ApiDeps, showId: string) {
  const show = await findShow(deps.db, showId);
  if (!show) throw notFound('show');
  return showBody(show, (await lotsOfShow(deps.db, showId)).map(viewOfLot));
}

/** The seller (and anyone acting for them) may not bid on their own lot. */
async function refuseSellerBidding(deps: ApiDeps, principal: Principal, lot: { seller_id: string }): Promise<void> {
  if (await isSellerSelf(deps.db, principal, lot.seller_id))
    throw new ApiError(409, 'seller_cannot_bid', 'a seller cannot bid on their own lot');
}

// One intake per API instance (its own pub/sub), shared by its requests.
const intakes = new WeakMap<object, AuctionIntake>();
const intakeOf = (deps: ApiDeps) => {
  let intake = intakes.get(deps.pubsub);
  if (!intake) intakes.set(deps.pubsub, (intake = createAuctionIntake(deps)));
  return intake;
};

const bidAnswer = (placed: BidAccepted) => ({
  status: placed.replayed ? 200 : 201,
  body: { bid: bidBody(placed.bid), lot: viewOfLot(placed.row), replayed: placed.replayed },
});

export function registerAuctionRoutes(api: ApiRouter): void {
  // --- shows ---------------------------------------------------------------------------------------
  api.route({
    method: 'post',
    path: '/v1/shows',
    summary: 'Seller: create a live show (its lots are added with POST /v1/auctions)',
    tag: 'auctions',
    capability: ['seller:manage', 'auction:manage:any'],
    body: ShowBody,
    idempotent: true,
    responses: { 201: { description: 'Created, scheduled', schema: ShowSchema }, 404: { description: 'No such seller' } },
    handler: async ({ principal, body, deps, audit }) => {
      await assertActsForSeller(deps.db, principal, body.sellerId, 'auction:manage:any');
      if (!(await findSeller(deps.db, body.sellerId))) throw notFound('seller');
      const show = await insertShow(deps.db, { id: newShowId(), sellerId: body.sellerId, title: body.title });
      await startFlow(deps, auctionShowWorkflow, {
        workflowId: showWorkflowId(show.id),
        args: [{ showId: show.id, sellerId: body.sellerId }],
        typedSearchAttributes: [
          { key: SellerId, value: body.sellerId },
          { key: AuctionId, value: show.id },
          { key: FlowStatus, value: 'scheduled' },
        ],
      });
      await audit('show.create', { type: 'show', id: show.id });
      return { status: 201, body: showBody(show, []) };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/shows/:showId',
    summary: 'A show with its lots, in the order they are presented',
    tag: 'auctions',
    capability: 'auction:read',
    params: ShowParams,
    responses: { 200: { description: 'The show', schema: ShowSchema } },
    handler: async ({ params, deps }) => ({ status: 200, body: await showWithLots(deps, params.showId) }),
  });

  for (const [action, spec] of Object.entries(SHOW_ACTIONS)) {
    api.route({
      method: 'post',
      path: `/v1/shows/:showId/${action}`,
      summary: `Seller: ${spec.summary}`,
      tag: 'auctions',
      capability: ['seller:manage', 'auction:manage:any'],
      params: ShowParams,
      responses: {
        200: { description: 'The show after it', schema: ShowSchema },
        409: { description: 'Not allowed from the show’s status' },
      },
      handler: async ({ principal, params, deps, audit }) => {
        const show = await findShow(deps.db, params.showId);
        if (!show) throw notFound('show');
        await assertActsForSeller(deps.db, principal, show.seller_id, 'auction:manage:any');
        await updateFlow<ShowState, ShowActionInput>(deps, showWorkflowId(show.id), 'show', spec.update, { by: principal.userId });
        await audit(`show.${action}`, { type: 'show', id: show.id });
        return { status: 200, body: await showWithLots(deps, show.id) };
      },
    });
  }

  api.route({
    method: 'post',
    path: '/v1/shows/:showId/lots/:lotId/start',
    summary: 'Seller: present a lot of a live show; it opens for bids at once',
    tag: 'auctions',
    capability: ['seller:manage', 'auction:manage:any'],
    params: ShowLotParams,
    responses: {
      202: { description: 'Presented; the lot opens within moments (watch it on the WebSocket)', schema: ShowSchema },
      404: { description: 'No such show, or the lot is not one of its lots' },
      409: { description: 'The show is not live, or the lot was already presented' },
    },
    handler: async ({ principal, params, deps, audit }) => {
      const show = await findShow(deps.db, params.showId);
      if (!show) throw notFound('show');
      await assertActsForSeller(deps.db, principal, show.seller_id, 'auction:manage:any');
      const lot = await findLot(deps.db, params.lotId);
      if (!lot || lot.show_id !== show.id) throw notFound('lot');
      await updateFlow(deps, showWorkflowId(show.id), 'show', startLotUpdate, { by: principal.userId, lotId: lot.id });
      await audit('show.start_lot', { type: 'lot', id: lot.id });
      return { status: 202, body: await showWithLots(deps, show.id) };
    },
  });

  // --- lots ----------------------------------------------------------------------------------------
  api.route({
    method: 'post',
    path: '/v1/auctions',
    summary: "Seller: put one of the seller's products up as a lot, in a show or on its own schedule",
    tag: 'auctions',
    capability: ['seller:manage', 'auction:manage:any'],
    body: LotBody,
    idempotent: true,
    responses: {
      201: { description: 'Created, scheduled', schema: LotViewSchema },
      404: { description: 'No such seller, product or show' },
      409: { description: 'The show has ended' },
      422: { description: 'The product is not for sale, or the prices do not fit together' },
    },
    handler: async ({ principal, body, deps, audit }) => {
      await assertActsForSeller(deps.db, principal, body.sellerId, 'auction:manage:any');
      const product = await findProduct(deps.db, body.productId);
      if (!product || product.seller_id !== body.sellerId) throw notFound('product');
      if (!product.active || product.stock < 1)
        throw new ApiError(422, 'product_unavailable', 'the product is not for sale or out of stock');
      if (body.reservePrice !== undefined && body.reservePrice < body.startingPrice)
        throw new ApiError(422, 'reserve_below_start', 'the reserve price is below the starting price');
      if (body.buyNowPrice !== undefined && body.buyNowPrice <= Math.max(body.startingPrice, (body.reservePrice ?? 0) - 1))
        throw new ApiError(422, 'buy_now_too_low', 'the buy-now price must be above the starting price and at least the reserve');
      if (body.showId !== undefined) {
        const show = await findShow(deps.db, body.showId);
        if (!show || show.seller_id !== body.sellerId) throw notFound('show');
        if (show.status === 'ended') throw new ApiError(409, 'show_ended', 'the show has ended');
      }
      const startsAt = body.startsAt === undefined ? null : new Date(body.startsAt);
      const { config } = deps;
      const lot = await insertLot(deps.db, {
        id: newLotId(),
        showId: body.showId ?? null,
        sellerId: body.sellerId,
        productId: product.id,
        title: body.title ?? product.name,
        startingPrice: body.startingPrice,
        reservePrice: body.reservePrice ?? null,
        buyNowPrice: body.buyNowPrice ?? null,
        durationMs: body.durationSeconds * 1000,
        softCloseMs: (body.softCloseSeconds ?? config.AUCTION_SOFT_CLOSE_SECONDS) * 1000,
        suddenDeath: body.suddenDeath ?? false,
        increments: config.AUCTION_INCREMENTS,
        startsAt,
      });
      await startFlow(deps, auctionLotWorkflow, {
        workflowId: auctionWorkflowId(lot.id),
        args: [
          {
            lotId: lot.id,
            sellerId: lot.seller_id,
            showId: lot.show_id,
            startsAt: startsAt?.toISOString() ?? null,
            order: {
              deliveryDeadlineMs: config.CHECKOUT_DELIVERY_DEADLINE_SECONDS * 1000,
              returnWindowMs: config.CHECKOUT_RETURN_WINDOW_SECONDS * 1000,
            },
            secondChanceWindowMs: config.AUCTION_SECOND_CHANCE_WINDOW_SECONDS * 1000,
            secondChanceOfferWindowMs: config.AUCTION_SECOND_CHANCE_OFFER_WINDOW_SECONDS * 1000,
          },
        ],
        typedSearchAttributes: [
          { key: SellerId, value: lot.seller_id },
          { key: AuctionId, value: lot.id },
          { key: FlowStatus, value: 'scheduled' },
        ],
      });
      await audit('lot.create', { type: 'lot', id: lot.id });
      return { status: 201, body: viewOfLot(lot) };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/auctions/:lotId',
    summary: 'A lot as every watcher sees it: price, leader, bids, end, next minimum',
    tag: 'auctions',
    capability: 'auction:read',
    params: LotParams,
    responses: { 200: { description: 'The lot', schema: LotViewSchema } },
    handler: async ({ params, deps }) => ({ status: 200, body: viewOfLot(await lotOr404(deps, params.lotId)) }),
  });

  api.route({
    method: 'get',
    path: '/v1/auctions/:lotId/bids',
    summary: "A lot's accepted bids, newest first (bidders under their per-lot pseudonym)",
    tag: 'auctions',
    capability: 'auction:read',
    params: LotParams,
    query: BidPage,
    responses: { 200: { description: 'A page of bids', schema: PublicBidListSchema } },
    handler: async ({ params, query, deps }) => {
      await lotOr404(deps, params.lotId);
      const bids = await bidsOfLot(deps.db, params.lotId, query.limit, query.before);
      return {
        status: 200,
        body: {
          bids: bids.map((b) => ({
            seq: b.seq,
            bidder: bidderAlias(b.lot_id, b.bidder_id),
            kind: b.kind,
            priceAfter: b.price_after,
            placedAt: new Date(b.placed_at).toISOString(),
          })),
        },
      };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/auctions/:lotId/bids',
    summary: 'Bid (or proxy-bid up to maxAmount); funds for the bid are held until you are outbid',
    description:
      'Accepted only while the lot is open and at or above its next minimum. The bid, its funds hold and the lot’s new price ' +
      'commit together before the answer; the same clientBidId returns the first answer. A bid in the last seconds moves the end ' +
      '(unless sudden death).',
    tag: 'auctions',
    capability: 'auction:bid',
    params: LotParams,
    body: BidBody,
    rateLimit: 'orders',
    responses: {
      201: { description: 'Accepted and durable', schema: BidAcceptedSchema },
      200: { description: 'This clientBidId was accepted before: that bid', schema: BidAcceptedSchema },
      409: {
        description:
          'Not accepted: lot_not_open, lot_closed, bid_too_low (details.nextMinimum), not_above_own_max, insufficient_funds, seller_cannot_bid, client_bid_id_reused',
      },
      422: { description: 'maxAmount below amount' },
    },
    handler: async ({ principal, params, body, deps }) => {
      // A user linked to the lot's seller holds the seller role; customers skip the lookup. (A
      // development token naming the seller itself is refused by the bidding rules.)
      if (principal.roles.includes('seller')) {
        await refuseSellerBidding(deps, principal, await lotOr404(deps, params.lotId));
      }
      return bidAnswer(await intakeOf(deps).place({ lotId: params.lotId, bidderId: principal.userId, kind: 'bid', ...body }));
    },
  });

  api.route({
    method: 'post',
    path: '/v1/auctions/:lotId/buy-now',
    summary: 'Buy the lot at its buy-now price, ending it at once (while no bid has reached the reserve)',
    tag: 'auctions',
    capability: 'auction:bid',
    params: LotParams,
    body: BuyNowBody,
    rateLimit: 'orders',
    responses: {
      201: { description: 'Bought: the lot is closed and your order follows', schema: BidAcceptedSchema },
      200: { description: 'This clientBidId bought it before: that purchase', schema: BidAcceptedSchema },
      409: { description: 'lot_closed, buy_now_unavailable, insufficient_funds, seller_cannot_bid' },
    },
    handler: async ({ principal, params, body, deps }) => {
      await refuseSellerBidding(deps, principal, await lotOr404(deps, params.lotId));
      const placed = await intakeOf(deps).place({ lotId: params.lotId, bidderId: principal.userId, kind: 'buy_now', amount: 0, ...body });
      await nudgeLot(deps, params.lotId);
      return bidAnswer(placed);
    },
  });

  api.route({
    method: 'post',
    path: '/v1/auctions/:lotId/cancel',
    summary: 'Seller or support: cancel a lot before its first bid',
    tag: 'auctions',
    capability: ['seller:manage', 'auction:manage:any'],
    params: LotParams,
    responses: { 200: { description: 'Cancelled', schema: LotViewSchema }, 409: { description: 'lot_has_bids or lot_closed' } },
    handler: async ({ principal, params, deps, audit }) => {
      const lot = await lotOr404(deps, params.lotId);
      await assertActsForSeller(deps.db, principal, lot.seller_id, 'auction:manage:any');
      const cancelled = await cancelLot(deps.db, lot.id);
      await publishLotChange(deps.pubsub, viewOfLot(cancelled), 'cancelled');
      await nudgeLot(deps, lot.id);
      await audit('lot.cancel', { type: 'lot', id: lot.id });
      return { status: 200, body: viewOfLot(cancelled) };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/auctions/:lotId/second-chance',
    summary: "Seller: after the winner's order was cancelled before dispatch, offer the lot to the next bidder at their own highest bid",
    tag: 'auctions',
    capability: ['seller:manage', 'auction:manage:any'],
    params: LotParams,
    responses: {
      200: { description: 'Offered (or, when no bidder is left, the lot ends unsold)', schema: LotStateSchema },
      409: { description: 'second_chance_unavailable' },
    },
    handler: async ({ principal, params, deps, audit }) => {
      const lot = await lotOr404(deps, params.lotId);
      await assertActsForSeller(deps.db, principal, lot.seller_id, 'auction:manage:any');
      const state = await updateFlow<LotState, { by: string }>(deps, auctionWorkflowId(lot.id), 'lot', offerSecondChanceUpdate, {
        by: principal.userId,
      });
      await audit('lot.second_chance', { type: 'lot', id: lot.id });
      return { status: 200, body: lotStateBody(state, await lotOr404(deps, lot.id)) };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/auctions/:lotId/state',
    summary: "Seller or support: the lot's workflow phase and any second-chance offer waiting for an answer",
    tag: 'auctions',
    capability: ['seller:manage', 'auction:manage:any'],
    params: LotParams,
    responses: {
      200: { description: 'Phase and offer', schema: LotStateSchema },
      409: { description: 'lot_finished: the workflow has ended' },
    },
    handler: async ({ principal, params, deps }) => {
      const lot = await lotOr404(deps, params.lotId);
      await assertActsForSeller(deps.db, principal, lot.seller_id, 'auction:manage:any');
      let state: LotState;
      try {
        state = await deps.temporal.workflow.getHandle(auctionWorkflowId(lot.id)).query(lotStateQuery);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw alreadyOver('lot');
        throw err;
      }
      return { status: 200, body: lotStateBody(state, lot) };
    },
  });

  for (const answer of ['accept', 'decline'] as const) {
    api.route({
      method: 'post',
      path: `/v1/auctions/offers/:offerId/${answer}`,
      summary:
        answer === 'accept'
          ? 'Accept a second-chance offer: your funds are held again for the offered amount, and your order follows'
          : 'Decline a second-chance offer: it passes to the next bidder',
      tag: 'auctions',
      capability: 'auction:bid',
      params: OfferParams,
      responses: {
        200: { description: 'Answered', schema: OfferSchema },
        404: { description: 'No such offer of yours' },
        409: { description: 'offer_closed, offer_expired, insufficient_funds' },
      },
      handler: async ({ principal, params, deps }) => {
        const { offer } = await answerOffer(deps.db, params.offerId, principal.userId, answer === 'accept');
        await deps.temporal.workflow
          .getHandle(auctionWorkflowId(offer.lot_id))
          .signal(secondChanceAnsweredSignal, { offerId: offer.id })
          .catch((err) =>
            deps.logger.warn({ err, offerId: offer.id }, 'second-chance answer not signalled; the lot reads it at the deadline'),
          );
        return { status: 200, body: offerBody(offer) };
      },
    });
  }

  // --- mine ----------------------------------------------------------------------------------------
  api.route({
    method: 'get',
    path: '/v1/me/bids',
    summary: 'My bids, newest first, each with its lot as it is now',
    tag: 'auctions',
    capability: 'auction:bid',
    query: Page,
    responses: { 200: { description: 'My bids', schema: MyBidsSchema } },
    handler: async ({ principal, query, deps }) => {
      const bids = await bidsOfBidder(deps.db, principal.userId, query.limit);
      return { status: 200, body: { bids: bids.map((b) => ({ bid: bidBody(b), lot: viewOfLot(b.lot) })) } };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/me/wins',
    summary: 'Lots I won, with the order each created',
    tag: 'auctions',
    capability: 'auction:bid',
    query: Page,
    responses: {
      200: {
        description: 'My wins',
        schema: MyWinsSchema,
      },
    },
    handler: async ({ principal, query, deps }) => {
      const lots = await lotsWonBy(deps.db, principal.userId, query.limit);
      return { status: 200, body: { wins: lots.map((l) => ({ lot: viewOfLot(l), price: l.sold_price!, orderId: l.order_id! })) } };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/me/offers',
    summary: 'Second-chance offers made to me',
    tag: 'auctions',
    capability: 'auction:bid',
    responses: { 200: { description: 'My offers', schema: OfferListSchema } },
    handler: async ({ principal, deps }) => ({ status: 200, body: { offers: (await offersOf(deps.db, principal.userId)).map(offerBody) } }),
  });
}

function lotStateBody(state: LotState, lot: LotRow) {
  return {
    phase: state.phase,
    lot: viewOfLot(lot),
    offer: state.offer && { offerId: state.offer.offerId, amount: state.offer.amount, expiresAt: state.offer.expiresAt },
  };
}
