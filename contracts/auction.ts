/**
 * The live-auction contract: `show-<showId>` (a seller's live show: its lots are presented one by
 * one) and `auction-<lotId>` (one lot: scheduled → open → closed → sold | unsold | cancelled, with a
 * second chance for the runner-up when the winner's order is cancelled before dispatch). The API,
 * activities, tests and benches use these definitions; the names below are written nowhere else.
 *
 * Bids do not go through the workflow: the API records each one in a single Postgres transaction
 * (db/auctions.ts) that also moves the funds held and the lot's end, under the lot's row lock. The
 * lot workflow owns the clock: it sleeps until the end the database holds and closes the lot there,
 * under the same lock, so no bid is accepted after the close.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { LotOutcome } from '../domain/auction';
import type { StuckFields } from './stuck';

export const showWorkflowId = (showId: string) => `show-${showId}`;
export const auctionWorkflowId = (lotId: string) => `auction-${lotId}`;

/** Ledger keys: each hold and each capture at most once. */
export const auctionKeys = {
  /** The hold behind the bid that made the `seq`-th accepted change of the lot. */
  bidHold: (lotId: string, seq: number) => `auction-${lotId}:hold:${seq}`,
  /** A second-chance offer accepted: the runner-up's funds are held again. */
  offerHold: (lotId: string, offerId: number) => `auction-${lotId}:offer:${offerId}`,
};

// --- show ------------------------------------------------------------------------------------------

export const SHOW_STATUSES = ['scheduled', 'live', 'paused', 'ended'] as const;
export type ShowStatus = (typeof SHOW_STATUSES)[number];

export interface ShowInput {
  showId: string;
  sellerId: string;
}

export interface ShowState {
  showId: string;
  status: ShowStatus;
  /** Lots started so far, in the order they were presented. */
  started: string[];
  lastRejected: { action: string; code: string; message: string } | null;
}

export interface ShowActionInput {
  by: string;
}

export const startShowUpdate = defineUpdate<ShowState, [ShowActionInput]>('startShow');
export const pauseShowUpdate = defineUpdate<ShowState, [ShowActionInput]>('pauseShow');
export const resumeShowUpdate = defineUpdate<ShowState, [ShowActionInput]>('resumeShow');
export const endShowUpdate = defineUpdate<ShowState, [ShowActionInput]>('endShow');
/** Presents a lot: the show must be live and the lot one of its own, not yet started. */
export const startLotUpdate = defineUpdate<ShowState, [ShowActionInput & { lotId: string }]>('startLot');
export const showStateQuery = defineQuery<ShowState>('state');

// --- lot -------------------------------------------------------------------------------------------

export const LOT_STATUSES = ['scheduled', 'open', 'closed', 'sold', 'unsold', 'cancelled'] as const;
export type LotStatus = (typeof LOT_STATUSES)[number];

/** The lot workflow's phase, finer than the row's status; also its FlowStatus. */
export const LOT_PHASES = ['scheduled', 'open', 'closing', 'sold', 'second_chance', 'unsold', 'cancelled', 'completed'] as const;
export type LotPhase = (typeof LOT_PHASES)[number];

export interface LotInput {
  lotId: string;
  sellerId: string;
  showId: string | null;
  /** ISO instant a lot outside a show opens at; null: it waits for `start` (the show's startLot). */
  startsAt: string | null;
  /** What the winner's order is created with (the checkout saga's own settings). */
  order: { deliveryDeadlineMs: number; returnWindowMs: number };
  /** How long a runner-up has to accept a second-chance offer. */
  secondChanceWindowMs: number;
  /** How long the seller has to offer a second chance after the winner's order was cancelled. */
  secondChanceOfferWindowMs: number;
}

export interface LotWinner {
  bidderId: string;
  price: number;
  orderId: string;
}

export interface LotState extends StuckFields {
  lotId: string;
  phase: LotPhase;
  endsAt: string | null;
  outcome: LotOutcome | null;
  winner: LotWinner | null;
  /** Bidders already passed over for a second chance (the winner first). */
  passedOver: string[];
  /** The offer waiting for an answer, if any. */
  offer: { offerId: number; bidderId: string; amount: number; expiresAt: string } | null;
}

export interface LotActionInput {
  by: string;
  reason?: string;
}

/** Opens the lot now (sent by its show's startLot, or by support for a lot outside a show). */
export const startLotSignal = defineSignal<[LotActionInput]>('start');
/** The API changed the lot's row (buy-now closed it, or it was cancelled): look now, not at the timer. */
export const lotChangedSignal = defineSignal('lotChanged');
/** The seller offers the lot to the next bidder after the winner's order was cancelled before dispatch. */
export const offerSecondChanceUpdate = defineUpdate<LotState, [LotActionInput]>('offerSecondChance');
/** The runner-up's answer, recorded first by the API (the hold is placed in that transaction). */
export const secondChanceAnsweredSignal = defineSignal<[{ offerId: number }]>('secondChanceAnswered');
export const lotStateQuery = defineQuery<LotState>('state');

/** What the workflow learns when it tries to close the lot. */
export type CloseAttempt =
  | { kind: 'still_open'; endsAt: string }
  | { kind: 'cancelled' }
  | { kind: 'closed'; outcome: LotOutcome; holdId: number | null; runnersUp: Array<{ bidderId: string; amount: number }> };
