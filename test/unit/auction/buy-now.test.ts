import {
  DEFAULT_INCREMENTS,
  decideBid,
  decideBuyNow,
  heldExposure,
  lotOutcome,
  openBook,
  type AuctionBook,
  type BidInput,
  type BuyNowDecision,
  type LotTerms,
} from '../../../domain/auction';

const END = 100_000;
const terms = (t: Partial<LotTerms> = {}): LotTerms => ({
  sellerId: 'seller',
  startingPrice: 1000,
  reservePrice: null,
  buyNowPrice: 20_000,
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
function bought(d: BuyNowDecision) {
  if (!d.accepted) throw new Error(`expected buy-now to be accepted, got ${d.code}`);
  return d;
}

describe('buy-now', () => {
  test('before any bid it ends the lot at once with the buyer leading at the buy-now price', () => {
    const t = terms();
    const d = bought(decideBuyNow(t, openBook(t, END), { bidderId: 'a', at: 100 }));
    expect(d.price).toBe(20_000);
    expect(d.book).toMatchObject({ status: 'closed', price: 20_000, bidCount: 1, seq: 1, endsAt: END });
    expect(d.book.leader).toEqual({ bidderId: 'a', amount: 20_000, maxAmount: 20_000, since: 0 });
    expect(d.holds).toEqual({ place: { bidderId: 'a', amount: 20_000 }, release: [] });
    expect(heldExposure(d.book)).toEqual({ a: 20_000 });
    expect(lotOutcome(t, d.book)).toEqual({ kind: 'sold', winnerId: 'a', price: 20_000 });
    expect(decideBid(t, d.book, { bidderId: 'b', amount: 30_000, at: 101 })).toMatchObject({ accepted: false, code: 'lot_closed' });
    expect(decideBuyNow(t, d.book, { bidderId: 'b', at: 101 })).toMatchObject({ accepted: false, code: 'lot_closed' });
  });

  test('without a reserve, any bid takes it away', () => {
    const t = terms();
    const book = run(t, [{ bidderId: 'a', amount: 1000 }]);
    expect(decideBuyNow(t, book, { bidderId: 'b', at: 100 })).toMatchObject({
      accepted: false,
      code: 'buy_now_unavailable',
      details: { reason: 'bid_placed' },
    });
  });

  test('with a reserve, it stays while the bids are below the reserve; the leader’s hold is released', () => {
    const t = terms({ reservePrice: 10_000 });
    const book = run(t, [
      { bidderId: 'a', amount: 1000, maxAmount: 9_999 },
      { bidderId: 'b', amount: 1100, maxAmount: 3000 },
    ]);
    expect(book.price).toBe(3200);
    const d = bought(decideBuyNow(t, book, { bidderId: 'c', at: 100 }));
    expect(d.book.leader?.bidderId).toBe('c');
    expect(d.book.runnerUp?.bidderId).toBe('a');
    expect(d.holds).toEqual({ place: { bidderId: 'c', amount: 20_000 }, release: ['a'] });
    expect(d.book.bidCount).toBe(3);
    expect(lotOutcome(t, d.book)).toEqual({ kind: 'sold', winnerId: 'c', price: 20_000 });
  });

  test('the leader may take it themselves: their max hold is replaced by one for the buy-now price', () => {
    const t = terms({ reservePrice: 10_000 });
    const book = run(t, [{ bidderId: 'a', amount: 1000, maxAmount: 9_000 }]);
    const d = bought(decideBuyNow(t, book, { bidderId: 'a', at: 100 }));
    expect(d.holds).toEqual({ place: { bidderId: 'a', amount: 20_000 }, release: ['a'] });
    expect(d.book.runnerUp).toBeNull();
  });

  test('once a bid reaches the reserve it is refused, exactly at the reserve too', () => {
    const t = terms({ reservePrice: 10_000 });
    const atReserve = run(t, [{ bidderId: 'a', amount: 1000, maxAmount: 10_000 }]);
    expect(atReserve.price).toBe(10_000);
    expect(decideBuyNow(t, atReserve, { bidderId: 'b', at: 100 })).toMatchObject({
      accepted: false,
      code: 'buy_now_unavailable',
      details: { reason: 'reserve_met' },
    });
    const justBelow = run(t, [{ bidderId: 'a', amount: 1000, maxAmount: 9_999 }]);
    expect(decideBuyNow(t, justBelow, { bidderId: 'b', at: 100 }).accepted).toBe(true);
  });

  test('a lot without a buy-now price, or with one below its reserve, offers none', () => {
    const none = terms({ buyNowPrice: null });
    expect(decideBuyNow(none, openBook(none, END), { bidderId: 'a', at: 1 })).toMatchObject({
      code: 'buy_now_unavailable',
      details: { reason: 'no_buy_now_price' },
    });
    const below = terms({ reservePrice: 30_000 });
    expect(decideBuyNow(below, openBook(below, END), { bidderId: 'a', at: 1 })).toMatchObject({
      code: 'buy_now_unavailable',
      details: { reason: 'below_reserve' },
    });
  });

  test('the seller cannot buy, and nobody can after the end', () => {
    const t = terms();
    expect(decideBuyNow(t, openBook(t, END), { bidderId: 'seller', at: 1 })).toMatchObject({ code: 'seller_cannot_bid' });
    expect(decideBuyNow(t, openBook(t, END), { bidderId: 'a', at: END })).toMatchObject({ code: 'lot_closed' });
    expect(decideBuyNow(t, { ...openBook(t, END), status: 'closed' }, { bidderId: 'a', at: 1 })).toMatchObject({ code: 'lot_closed' });
  });
});
