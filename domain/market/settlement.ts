import { PAYOUT } from './constants';
import type { Fill, Side } from './types';

/**
 * Cash and position consequences of one fill (all integer paise / contracts). Signs: + = receives.
 *
 *  - Each party's cash delta = (SELL ? +1 : −1) × (its own side price) × quantity.
 *    mint:     YES buyer pays yesPrice × q, NO buyer pays noPrice × q; escrow +1000 × q.
 *    transfer: buyer pays the seller (same side, same price); escrow unchanged.
 *    merge:    escrow pays the YES seller yesPrice × q and the NO seller noPrice × q; escrow −1000 × q.
 *  - escrowDelta = −(takerCash + makerCash) = PAYOUT × pairsDelta, so the three always sum to 0.
 *  - Each party's contract delta on its own side = (BUY ? +q : −q).
 */
export interface FillSettlement {
  takerCash: number;
  makerCash: number;
  escrowCash: number;
  takerSide: Side;
  takerContracts: number;
  makerSide: Side;
  makerContracts: number;
  /** +q for mint, −q for merge, 0 for transfer: change in outstanding YES (= NO) contracts. */
  pairsDelta: number;
}

export function settleFill(fill: Fill): FillSettlement {
  const q = fill.quantity;
  const takerCash = (fill.takerAction === 'SELL' ? 1 : -1) * fill.takerPrice * q;
  const makerCash = (fill.makerAction === 'SELL' ? 1 : -1) * fill.makerPrice * q;
  const pairsDelta = fill.kind === 'mint' ? q : fill.kind === 'merge' ? -q : 0;
  return {
    takerCash,
    makerCash,
    escrowCash: PAYOUT * pairsDelta,
    takerSide: fill.takerSide,
    takerContracts: fill.takerAction === 'BUY' ? q : -q,
    makerSide: fill.makerSide,
    makerContracts: fill.makerAction === 'BUY' ? q : -q,
    pairsDelta,
  };
}
