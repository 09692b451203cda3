import {
  AUCTION_REJECTION_KINDS,
  DEFAULT_INCREMENTS,
  closeBook,
  decideBid,
  heldExposure,
  lotOutcome,
  openBook,
  secondChanceCandidates,
  sealedOutcome,
  type AuctionBook,
  type BidInput,
  type LotTerms,
} from '../../../domain/auction';

const END = 100_000;
const terms = (t: Partial<LotTerms> = {}): LotTerms => ({
  sellerId: 'seller',
  startingPrice: 1000,
  reservePrice: null,
  buyNowPrice: null,
  softCloseMs: 10_000,
  suddenDeath: false,
  increments: DEFAULT_INCREMENTS,
  ...t,
});
function run(t: LotTerms, bids: Array<Omit<BidInput, 'at'>>): AuctionBook {
  return bids.reduce(
    (book, bid) => {
      const d = decideBid(t, book, { ...bid, at: 50 });
      if (!d.accepted) throw new Error(`expected accepted, got ${d.code}`);
      return d.book;
    },
    openBook(t, END),
  );
}

describe('lotOutcome', () => {
  test('no bids, reserve not met, reserve met exactly, no reserve', () => {
    const t = terms({ reservePrice: 5000 });
    expect(lotOutcome(t, closeBook(openBook(t, END)))).toEqual({ kind: 'unsold', reason: 'no_bids' });
    expect(lotOutcome(t, run(t, [{ bidderId: 'a', amount: 4999 }]))).toEqual({ kind: 'unsold', reason: 'reserve_not_met' });
    expect(lotOutcome(t, run(t, [{ bidderId: 'a', amount: 1000, maxAmount: 5000 }]))).toEqual({ kind: 'sold', winnerId: 'a', price: 5000 });
    expect(lotOutcome(terms(), run(terms(), [{ bidderId: 'a', amount: 1000 }]))).toEqual({ kind: 'sold', winnerId: 'a', price: 1000 });
  });

  test('closeBook stops the bidding and keeps the leader and price', () => {
    const book = run(terms(), [{ bidderId: 'a', amount: 1000 }]);
    const closed = closeBook(book);
    expect(closed).toEqual({ ...book, status: 'closed' });
    expect(decideBid(terms(), closed, { bidderId: 'b', amount: 5000, at: 60 })).toMatchObject({ accepted: false, code: 'lot_closed' });
  });
});

describe('sealedOutcome', () => {
  const t = terms();
  const env = (bidderId: string, amount: number, maxAmount: number, since: number) => ({ bidderId, amount, maxAmount, since });

  test('no envelopes, no winner', () => {
    expect(sealedOutcome(t, [])).toEqual({ winnerId: null, price: null });
  });

  test('a single envelope wins at its own bid', () => {
    expect(sealedOutcome(t, [env('a', 1200, 9000, 0)])).toEqual({ winnerId: 'a', price: 1200 });
  });

  test('the highest max wins one step above the second max, capped by its own max', () => {
    expect(sealedOutcome(t, [env('a', 1000, 9000, 0), env('b', 1100, 3000, 1), env('c', 1300, 2000, 2)])).toEqual({
      winnerId: 'a',
      price: 3200,
    });
    expect(sealedOutcome(t, [env('a', 1000, 3050, 0), env('b', 1100, 3000, 1)])).toEqual({ winnerId: 'a', price: 3050 });
  });

  test('equal maxima go to the earlier envelope at that max', () => {
    expect(sealedOutcome(t, [env('b', 1100, 5000, 3), env('a', 1000, 5000, 1)])).toEqual({ winnerId: 'a', price: 5000 });
  });

  test('the reserve lifts a winner whose max reaches it', () => {
    const r = terms({ reservePrice: 6000 });
    expect(sealedOutcome(r, [env('a', 1000, 9000, 0), env('b', 1100, 2000, 1)])).toEqual({ winnerId: 'a', price: 6000 });
    expect(sealedOutcome(r, [env('a', 1000, 5999, 0), env('b', 1100, 2000, 1)])).toEqual({ winnerId: 'a', price: 2100 });
  });

  test('several envelopes of one bidder count as their highest', () => {
    expect(sealedOutcome(t, [env('a', 1000, 2000, 0), env('a', 1500, 9000, 2), env('b', 1100, 3000, 1)])).toEqual({
      winnerId: 'a',
      price: 3200,
    });
  });
});

describe('heldExposure and secondChanceCandidates', () => {
  const t = terms();

  test('only the leader’s max is held', () => {
    expect(heldExposure(openBook(t, END))).toEqual({});
    const book = run(t, [
      { bidderId: 'a', amount: 1000, maxAmount: 2000 },
      { bidderId: 'b', amount: 1100, maxAmount: 5000 },
    ]);
    expect(heldExposure(book)).toEqual({ b: 5000 });
  });

  test('the others by their own max, highest first, each offered at that max', () => {
    const book = run(t, [
      { bidderId: 'a', amount: 1000, maxAmount: 2000 },
      { bidderId: 'b', amount: 2100, maxAmount: 9000 },
      { bidderId: 'c', amount: 2200, maxAmount: 4000 },
      { bidderId: 'd', amount: 5000 },
    ]);
    expect(secondChanceCandidates(book, ['b'])).toEqual([
      { bidderId: 'd', amount: 5000 },
      { bidderId: 'c', amount: 4000 },
      { bidderId: 'a', amount: 2000 },
    ]);
    expect(secondChanceCandidates(book, ['b', 'd', 'c'])).toEqual([{ bidderId: 'a', amount: 2000 }]);
    expect(secondChanceCandidates(book, ['a', 'b', 'c', 'd'])).toEqual([]);
  });

  test('equal maxima go to the bidder who set theirs first', () => {
    // z's id sorts last and z bid first: the order comes from the bids, not the ids.
    const book = run(t, [
      { bidderId: 'z', amount: 1000, maxAmount: 5000 },
      { bidderId: 'a', amount: 1100, maxAmount: 5000 },
      { bidderId: 'w', amount: 5500, maxAmount: 9000 },
    ]);
    expect(book.leader?.bidderId).toBe('w');
    expect(secondChanceCandidates(book, ['w'])).toEqual([
      { bidderId: 'z', amount: 5000 },
      { bidderId: 'a', amount: 5000 },
    ]);
  });
});

test('each refusal code reads as a rejection kind', () => {
  expect(AUCTION_REJECTION_KINDS).toEqual({
    lot_closed: 'conflict',
    bid_too_low: 'conflict',
    buy_now_unavailable: 'conflict',
    not_above_own_max: 'conflict',
    seller_cannot_bid: 'invalid',
    max_below_amount: 'invalid',
    invalid_amount: 'invalid',
  });
});
