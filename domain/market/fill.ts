import type { Action, Fill, FillKind, Side } from './types';

/** Kind of a match between a taker and a maker action (sides are implied by the book). */
export function fillKind(takerAction: Action, makerAction: Action): FillKind {
  if (takerAction === 'BUY') return makerAction === 'BUY' ? 'mint' : 'transfer';
  return makerAction === 'BUY' ? 'transfer' : 'merge';
}

/** Concrete Fill with a fixed field order (one hidden class → fast property access). */
export class FillRecord implements Fill {
  constructor(
    readonly marketId: string,
    readonly kind: FillKind,
    readonly yesPrice: number,
    readonly noPrice: number,
    readonly quantity: number,
    readonly takerOrderId: string,
    readonly takerUserId: string,
    readonly takerSide: Side,
    readonly takerAction: Action,
    readonly takerPrice: number,
    readonly makerOrderId: string,
    readonly makerUserId: string,
    readonly makerSide: Side,
    readonly makerAction: Action,
    readonly makerPrice: number,
    readonly makerRemaining: number,
  ) {}
}
