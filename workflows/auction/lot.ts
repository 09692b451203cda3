/**
 * `auction-<lotId>`: one lot from presentation to its buyer's order.
 *
 * scheduled → open (its show's startLot, or its own startsAt) → closed at its end (moved only by
 * bids accepted in its last seconds) → sold: the winner's order runs through the checkout saga —
 * or unsold (no bids, reserve not met) or cancelled (before the first bid). If the winner's order
 * is cancelled before dispatch, the seller may offer the lot to the next bidder at that bidder's
 * own highest bid; declining or letting the window pass hands it further down, or it ends unsold.
 *
 * Bids never pass through here (db/auction-bids.ts): this workflow owns the clock and the steps
 * after the close.
 */
import { ParentClosePolicy, condition, executeChild, setHandler } from '@temporalio/workflow';
import {
  lotChangedSignal,
  lotStateQuery,
  offerSecondChanceUpdate,
  secondChanceAnsweredSignal,
  startLotSignal,
  type LotInput,
  type LotPhase,
  type LotState,
} from '../../contracts/auction';
import { checkoutWorkflowId, type CheckoutState } from '../../contracts/checkout';
import { rejection } from '../../domain/rejection';
import { checkoutWorkflow } from '../checkout';
import { AuctionId, CustomerId, OrderId, SellerId } from '../search-attributes';
import { flowControl } from '../stuck';
import { steps } from './proxies';

type Sale = { bidderId: string; price: number; holdId: number };

/**
 * The lot's carried state and its messages: the handlers only record what was asked (a start, a
 * changed row, the seller's second-chance request, a runner-up's answer); the workflow acts on it.
 */
class Lot {
  readonly state: LotState;
  readonly flow: ReturnType<typeof flowControl>;
  startRequested = false;
  rowChanged = false;
  secondChanceRequested = false;
  answeredOffer: number | null = null;

  constructor(lotId: string) {
    this.state = {
      lotId,
      phase: 'scheduled',
      endsAt: null,
      outcome: null,
      winner: null,
      passedOver: [],
      offer: null,
      stuckStep: null,
      stuckReason: null,
    };
    this.flow = flowControl({ flowType: 'auction', state: this.state });
    setHandler(lotStateQuery, () => this.state);
    setHandler(startLotSignal, () => void (this.startRequested = true));
    setHandler(lotChangedSignal, () => void (this.rowChanged = true));
    setHandler(secondChanceAnsweredSignal, ({ offerId }) => void (this.answeredOffer = offerId));
    setHandler(
      offerSecondChanceUpdate,
      async (_action) => {
        this.secondChanceRequested = true;
        await condition(() => this.state.offer !== null || this.state.phase !== 'second_chance');
        return this.state;
      },
      {
        validator: (_action) => {
          if (this.state.phase !== 'second_chance' || this.secondChanceRequested)
            throw rejection(
              'conflict',
              'second_chance_unavailable',
              'a second chance is offered once the winner’s order was cancelled before dispatch',
            );
        },
      },
    );
  }

  phase(p: LotPhase, text: string): void {
    this.state.phase = p;
    this.flow.status(p, `Lot ${this.state.lotId}: ${text}`);
  }
}

export async function auctionLotWorkflow(input: LotInput): Promise<LotState> {
  const { lotId } = input;
  const lot = new Lot(lotId);
  const { state, flow } = lot;
  const phase = (p: LotPhase, text: string) => lot.phase(p, text);

  // --- presentation -------------------------------------------------------------------------------
  for (;;) {
    const startsIn = input.startsAt === null ? undefined : Math.max(0, Date.parse(input.startsAt) - Date.now());
    const started = () => lot.startRequested || lot.rowChanged;
    const woken = startsIn === undefined ? (await condition(started), true) : await condition(started, startsIn);
    if (lot.startRequested || !woken) break;
    lot.rowChanged = false;
    if ((await flow.step('read', () => steps.readAuctionLotStatus({ lotId }))) === 'cancelled') return finish('cancelled', 'cancelled');
  }
  const opened = await flow.step('open', () => steps.openAuctionLot({ lotId }));
  if (opened.endsAt === null) return finish('cancelled', 'cancelled');
  state.endsAt = opened.endsAt;
  phase('open', `open until ${opened.endsAt}`);

  // --- bidding: sleep until the end the database holds; late bids move it ------------------------
  let close;
  for (;;) {
    await condition(() => lot.rowChanged, Math.max(1, Date.parse(state.endsAt!) - Date.now()));
    lot.rowChanged = false;
    close = await flow.step('close', () => steps.closeAuctionLot({ lotId }));
    if (close.kind !== 'still_open') break;
    state.endsAt = close.endsAt;
  }
  if (close.kind === 'cancelled') return finish('cancelled', 'cancelled');
  state.outcome = close.outcome;
  if (close.outcome.kind === 'unsold') return finish('unsold', close.outcome.reason);

  // --- the sale, and a second chance while orders are cancelled before dispatch ------------------
  let sale: Sale | null = { bidderId: close.outcome.winnerId, price: close.outcome.price, holdId: close.holdId! };
  const runnersUp = close.runnersUp;
  while (sale) {
    state.passedOver.push(sale.bidderId);
    const order = await sellAndDeliver(sale);
    if (order === null) return state;
    if (order.status !== 'cancelled' || order.dispatched) {
      phase('completed', `sold to ${sale.bidderId} for ${sale.price} paise; order ${state.winner!.orderId} ${order.status}`);
      return state;
    }
    await flow.step('reopen', () => steps.reopenAuctionLot({ lotId, reason: 'winner_order_cancelled' }));
    phase('second_chance', "the winner's order was cancelled before dispatch; the seller may offer it to the next bidder");
    sale = await secondChance(runnersUp);
  }
  phase('unsold', 'unsold: no second-chance offer was taken');
  return state;

  /** Sells to the bidder and runs their order to its end; null when the sale could not happen (the lot is then unsold). */
  async function sellAndDeliver(s: Sale): Promise<CheckoutState | null> {
    const sold = await flow.step('sell', () =>
      steps.sellAuctionLot({ lotId, bidderId: s.bidderId, price: s.price, holdId: s.holdId, ...input.order }),
    );
    if (!sold.sold) {
      await finish('unsold', sold.reason);
      return null;
    }
    state.winner = { bidderId: s.bidderId, price: s.price, orderId: sold.orderId };
    phase('sold', `sold to ${s.bidderId} for ${s.price} paise; order ${sold.orderId}`);
    return executeChild(checkoutWorkflow, {
      workflowId: checkoutWorkflowId(sold.orderId),
      args: [
        {
          orderId: sold.orderId,
          buyerId: s.bidderId,
          sellerId: input.sellerId,
          total: s.price,
          paymentMethod: null,
          auctionLotId: lotId,
          ...input.order,
        },
      ],
      // The order outlives nothing here: if this lot's workflow ended early, the order still runs.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: [
        { key: OrderId, value: sold.orderId },
        { key: CustomerId, value: s.bidderId },
        { key: SellerId, value: input.sellerId },
        { key: AuctionId, value: lotId },
      ],
    });
  }

  /** Waits for the seller's offer, then offers the lot down the runners-up until one accepts in time. */
  async function secondChance(candidates: Array<{ bidderId: string; amount: number }>): Promise<Sale | null> {
    lot.secondChanceRequested = false;
    if (!(await condition(() => lot.secondChanceRequested, input.secondChanceOfferWindowMs))) return null;
    for (const c of candidates) {
      if (state.passedOver.includes(c.bidderId)) continue;
      const offer = await flow.step('offer', () =>
        steps.offerSecondChance({ lotId, bidderId: c.bidderId, amount: c.amount, windowMs: input.secondChanceWindowMs }),
      );
      state.offer = { offerId: offer.offerId, bidderId: c.bidderId, amount: c.amount, expiresAt: offer.expiresAt };
      await condition(() => lot.answeredOffer === offer.offerId, Math.max(1, Date.parse(offer.expiresAt) - Date.now()));
      const answer = await flow.step('answer', () => steps.settleSecondChanceOffer({ lotId, offerId: offer.offerId }));
      state.offer = null;
      if (answer.status === 'accepted' && answer.holdId !== null) return { bidderId: c.bidderId, price: c.amount, holdId: answer.holdId };
      state.passedOver.push(c.bidderId);
    }
    return null;
  }

  async function finish(status: 'unsold' | 'cancelled', reason: string): Promise<LotState> {
    await flow.step('finish', () => steps.finishAuctionLot({ lotId, status, reason }));
    phase(status, `${status} (${reason})`);
    return state;
  }
}
