import {
  DEFAULT_INCREMENTS,
  decideBid,
  heldExposure,
  lotOutcome,
  openBook,
  type AuctionBook,
  type BidDecision,
  type BidInput,
  type LotTerms,
} from '../../../domain/auction';

const END = 1_000_000;
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

type Accepted = Extract<BidDecision, { accepted: true }>;
type Rejected = Extract<BidDecision, { accepted: false }>;

function accept(t: LotTerms, book: AuctionBook, bid: Omit<BidInput, 'at'> & { at?: number }): Accepted {
  const d = decideBid(t, book, { at: 1000, ...bid });
  if (!d.accepted) throw new Error(`expected the bid to be accepted, got ${d.code}: ${d.message}`);
  return d;
}
function refuse(t: LotTerms, book: AuctionBook, bid: Omit<BidInput, 'at'> & { at?: number }): Rejected {
  const d = decideBid(t, book, { at: 1000, ...bid });
  if (d.accepted) throw new Error('expected the bid to be refused');
  return d;
}
/** Runs bids in order, each accepted, and returns the last book. */
function run(t: LotTerms, bids: Array<Omit<BidInput, 'at'>>): AuctionBook {
  return bids.reduce((book, bid) => accept(t, book, bid).book, openBook(t, END));
}

describe('the first bid', () => {
  test('must reach the starting price', () => {
    const t = terms({ startingPrice: 2500 });
    const low = refuse(t, openBook(t, END), { bidderId: 'a', amount: 2499 });
    expect(low).toMatchObject({ code: 'bid_too_low', details: { nextMinimum: 2500 } });
    const d = accept(t, openBook(t, END), { bidderId: 'a', amount: 2500 });
    expect(d.book).toMatchObject({ price: 2500, bidCount: 1, seq: 1, status: 'open' });
    expect(d.book.leader).toEqual({ bidderId: 'a', amount: 2500, maxAmount: 2500, since: 0 });
    expect(d.book.bidders).toEqual({ a: { amount: 2500, maxAmount: 2500 } });
    expect(d.holds).toEqual({ place: { bidderId: 'a', amount: 2500 }, release: [] });
    expect(d.outbid).toBeNull();
  });

  test('with a max stands at its own amount: nobody is bidding against it yet', () => {
    const d = accept(terms(), openBook(terms(), END), { bidderId: 'a', amount: 1200, maxAmount: 9000 });
    expect(d.book.price).toBe(1200);
    expect(d.holds.place).toEqual({ bidderId: 'a', amount: 9000 });
    expect(heldExposure(d.book)).toEqual({ a: 9000 });
  });
});

describe('proxy bidding', () => {
  test('the leader keeps the lead one step above the challenger’s max', () => {
    const t = terms();
    const a = run(t, [{ bidderId: 'a', amount: 1000, maxAmount: 5000 }]);
    const d = accept(t, a, { bidderId: 'b', amount: 1100, maxAmount: 2000 });
    expect(d.book.leader?.bidderId).toBe('a');
    expect(d.book.price).toBe(2100);
    expect(d.book.runnerUp).toEqual({ bidderId: 'b', amount: 1100, maxAmount: 2000, since: 1 });
    expect(d.holds).toEqual({ place: null, release: [] });
    expect(d.outbid).toBeNull();
    expect(d.book.bidders).toEqual({ a: { amount: 1000, maxAmount: 5000 }, b: { amount: 1100, maxAmount: 2000 } });
  });

  test('the step is the one at the losing max: at ₹30 it is ₹2', () => {
    const t = terms();
    const a = run(t, [{ bidderId: 'a', amount: 1000, maxAmount: 10_000 }]);
    expect(accept(t, a, { bidderId: 'b', amount: 1100, maxAmount: 2999 }).book.price).toBe(3099);
    expect(accept(t, a, { bidderId: 'b', amount: 1100, maxAmount: 3000 }).book.price).toBe(3200);
    expect(accept(t, a, { bidderId: 'b', amount: 1100, maxAmount: 5000 }).book.price).toBe(5500);
  });

  test('the proxy never bids above the leader’s own max', () => {
    const t = terms();
    const a = run(t, [{ bidderId: 'a', amount: 1000, maxAmount: 3050 }]);
    const d = accept(t, a, { bidderId: 'b', amount: 1100, maxAmount: 3000 });
    expect(d.book.leader?.bidderId).toBe('a');
    expect(d.book.price).toBe(3050);
  });

  test('an equal max goes to the earlier leader, at exactly their max', () => {
    const t = terms();
    const a = run(t, [{ bidderId: 'a', amount: 1000, maxAmount: 5000 }]);
    const d = accept(t, a, { bidderId: 'b', amount: 1100, maxAmount: 5000 });
    expect(d.book.leader).toMatchObject({ bidderId: 'a', maxAmount: 5000 });
    expect(d.book.price).toBe(5000);
    expect(d.book.runnerUp).toMatchObject({ bidderId: 'b', maxAmount: 5000 });
    expect(d.holds).toEqual({ place: null, release: [] });
  });

  test('a higher max takes the lead one step above the old leader’s max, and the old leader’s hold is released', () => {
    const t = terms();
    const a = run(t, [{ bidderId: 'a', amount: 1000, maxAmount: 2000 }]);
    const d = accept(t, a, { bidderId: 'b', amount: 1100, maxAmount: 5000 });
    expect(d.book.leader).toEqual({ bidderId: 'b', amount: 1100, maxAmount: 5000, since: 1 });
    expect(d.book.price).toBe(2100);
    expect(d.book.runnerUp).toEqual({ bidderId: 'a', amount: 1000, maxAmount: 2000, since: 0 });
    expect(d.holds).toEqual({ place: { bidderId: 'b', amount: 5000 }, release: ['a'] });
    expect(d.outbid).toBe('a');
    expect(heldExposure(d.book)).toEqual({ b: 5000 });
  });

  test('a new leader pays no more than their own max', () => {
    const t = terms();
    const a = run(t, [{ bidderId: 'a', amount: 1000, maxAmount: 2950 }]);
    const d = accept(t, a, { bidderId: 'b', amount: 1100, maxAmount: 3000 });
    expect(d.book.leader?.bidderId).toBe('b');
    expect(d.book.price).toBe(3000);
  });

  test('a new leader’s own bid stands when it is above what the proxy would ask', () => {
    const t = terms();
    const a = run(t, [{ bidderId: 'a', amount: 1000 }]);
    const d = accept(t, a, { bidderId: 'b', amount: 5000 });
    expect(d.book.price).toBe(5000);
  });

  test('a bid below the next minimum is refused with the minimum; exactly the minimum is accepted', () => {
    const t = terms();
    const a = run(t, [{ bidderId: 'a', amount: 2900 }]);
    expect(refuse(t, a, { bidderId: 'b', amount: 2999 })).toMatchObject({ code: 'bid_too_low', details: { nextMinimum: 3000 } });
    expect(accept(t, a, { bidderId: 'b', amount: 3000 }).book.price).toBe(3000);
    const at30 = run(t, [{ bidderId: 'a', amount: 3000 }]);
    expect(refuse(t, at30, { bidderId: 'b', amount: 3100 })).toMatchObject({ code: 'bid_too_low', details: { nextMinimum: 3200 } });
  });

  test('an outbid bidder bids again as a challenger, from the next minimum', () => {
    const t = terms();
    const book = run(t, [
      { bidderId: 'a', amount: 1000, maxAmount: 2000 },
      { bidderId: 'b', amount: 1100, maxAmount: 5000 },
    ]);
    expect(refuse(t, book, { bidderId: 'a', amount: 2100, maxAmount: 9000 })).toMatchObject({
      code: 'bid_too_low',
      details: { nextMinimum: 2200 },
    });
    const d = accept(t, book, { bidderId: 'a', amount: 2200, maxAmount: 9000 });
    expect(d.book.leader).toMatchObject({ bidderId: 'a', maxAmount: 9000, since: 2 });
    expect(d.book.price).toBe(5500);
    expect(d.holds).toEqual({ place: { bidderId: 'a', amount: 9000 }, release: ['b'] });
    expect(d.book.bidders.a).toEqual({ amount: 2200, maxAmount: 9000 });
  });

  test('the runner-up is the best losing max, whoever lost last', () => {
    const t = terms();
    const book = run(t, [
      { bidderId: 'a', amount: 1000, maxAmount: 9000 },
      { bidderId: 'b', amount: 1100, maxAmount: 3000 },
      { bidderId: 'c', amount: 3400, maxAmount: 4000 },
    ]);
    expect(book.runnerUp).toMatchObject({ bidderId: 'c', maxAmount: 4000 });
    expect(book.price).toBe(4200);
  });

  test('counts every accepted bid, including one the proxy beat at once', () => {
    const t = terms();
    const book = run(t, [
      { bidderId: 'a', amount: 1000, maxAmount: 9000 },
      { bidderId: 'b', amount: 1100 },
      { bidderId: 'c', amount: 1300 },
    ]);
    expect([book.bidCount, book.seq]).toEqual([3, 3]);
  });

  test('does not change the book it was given', () => {
    const t = terms();
    const book = run(t, [{ bidderId: 'a', amount: 1000, maxAmount: 2000 }]);
    const copy = structuredClone(book);
    accept(t, book, { bidderId: 'b', amount: 1100, maxAmount: 5000 });
    accept(t, book, { bidderId: 'a', amount: 1000, maxAmount: 6000 });
    expect(book).toEqual(copy);
  });
});

describe('the leader bidding again', () => {
  const t = terms();
  const book = run(t, [
    { bidderId: 'a', amount: 1000, maxAmount: 3000 },
    { bidderId: 'b', amount: 1100, maxAmount: 2000 },
  ]);

  test('must raise their own max', () => {
    expect(refuse(t, book, { bidderId: 'a', amount: 3000 })).toMatchObject({ code: 'not_above_own_max', details: { currentMax: 3000 } });
    expect(refuse(t, book, { bidderId: 'a', amount: 2200, maxAmount: 2500 }).code).toBe('not_above_own_max');
  });

  test('raises only their max: the price stays, the hold is replaced by one for the new max', () => {
    expect(book.price).toBe(2100);
    const d = accept(t, book, { bidderId: 'a', amount: 2200, maxAmount: 8000 });
    expect(d.book.price).toBe(2100);
    expect(d.book.leader).toEqual({ bidderId: 'a', amount: 1000, maxAmount: 8000, since: 2 });
    expect(d.book.runnerUp).toEqual(book.runnerUp);
    expect(d.holds).toEqual({ place: { bidderId: 'a', amount: 8000 }, release: ['a'] });
    expect(d.outbid).toBeNull();
    expect([d.book.bidCount, d.book.seq]).toEqual([3, 3]);
    expect(d.book.bidders.a).toEqual({ amount: 1000, maxAmount: 8000 });
  });

  test('need not reach the next minimum: a bare amount above their max is the new max', () => {
    const d = accept(t, book, { bidderId: 'a', amount: 3001 });
    expect(d.book.leader?.maxAmount).toBe(3001);
    expect(d.book.price).toBe(2100);
  });

  test('does not move a price their own earlier max held down', () => {
    // a leads at their whole max, tied by b; raising it is not a reason to pay more.
    const tied = run(t, [
      { bidderId: 'a', amount: 1000, maxAmount: 5000 },
      { bidderId: 'b', amount: 1100, maxAmount: 5000 },
    ]);
    expect(tied.price).toBe(5000);
    expect(accept(t, tied, { bidderId: 'a', amount: 1000, maxAmount: 9000 }).book.price).toBe(5000);
  });
});

describe('the reserve', () => {
  const t = terms({ reservePrice: 5000 });

  test('a max that reaches the reserve lifts the price to it at once', () => {
    const d = accept(t, openBook(t, END), { bidderId: 'a', amount: 1000, maxAmount: 5000 });
    expect(d.book.price).toBe(5000);
    expect(lotOutcome(t, d.book)).toEqual({ kind: 'sold', winnerId: 'a', price: 5000 });
  });

  test('below the reserve the price stays and the lot would not sell', () => {
    const book = run(t, [
      { bidderId: 'a', amount: 1000, maxAmount: 4999 },
      { bidderId: 'b', amount: 1100, maxAmount: 2000 },
    ]);
    expect(book.price).toBe(2100);
    expect(lotOutcome(t, book)).toEqual({ kind: 'unsold', reason: 'reserve_not_met' });
  });

  test('a challenger who takes the lead with a max over the reserve lifts the price to it', () => {
    const book = run(t, [
      { bidderId: 'a', amount: 1000, maxAmount: 2000 },
      { bidderId: 'b', amount: 1100, maxAmount: 6000 },
    ]);
    expect(book.price).toBe(5000);
  });

  test('the leader raising their max to the reserve lifts the price to it', () => {
    const book = run(t, [
      { bidderId: 'a', amount: 1000, maxAmount: 3000 },
      { bidderId: 'b', amount: 1100, maxAmount: 2000 },
    ]);
    expect(book.price).toBe(2100);
    expect(accept(t, book, { bidderId: 'a', amount: 1000, maxAmount: 4999 }).book.price).toBe(2100);
    expect(accept(t, book, { bidderId: 'a', amount: 1000, maxAmount: 5000 }).book.price).toBe(5000);
  });

  test('above the reserve the proxy works as usual', () => {
    const book = run(t, [
      { bidderId: 'a', amount: 1000, maxAmount: 8000 },
      { bidderId: 'b', amount: 5500, maxAmount: 6000 },
    ]);
    expect(book.price).toBe(6500);
  });
});

describe('refusals', () => {
  const t = terms();
  const open = openBook(t, END);

  test('the seller cannot bid on their own lot', () => {
    expect(refuse(t, open, { bidderId: 'seller', amount: 5000 }).code).toBe('seller_cannot_bid');
  });

  test.each<[string, Partial<BidInput>, string]>([
    ['a zero amount', { amount: 0 }, 'amount'],
    ['a negative amount', { amount: -100 }, 'amount'],
    ['a fraction of a paisa', { amount: 1000.5 }, 'amount'],
    ['NaN', { amount: Number.NaN }, 'amount'],
    ['infinity', { amount: Number.POSITIVE_INFINITY }, 'amount'],
    ['more than a safe integer', { amount: Number.MAX_SAFE_INTEGER + 1 }, 'amount'],
    ['an amount as text', { amount: '1000' as unknown as number }, 'amount'],
    ['a zero max', { amount: 1000, maxAmount: 0 }, 'maxAmount'],
    ['a fractional max', { amount: 1000, maxAmount: 2000.25 }, 'maxAmount'],
  ])('%s is an invalid amount', (_what, bid, field) => {
    const d = refuse(t, open, { bidderId: 'a', amount: 1000, ...bid });
    expect(d.code).toBe('invalid_amount');
    expect(d.details.field).toBe(field);
  });

  test('a max below the bid is refused', () => {
    expect(refuse(t, open, { bidderId: 'a', amount: 2000, maxAmount: 1999 })).toMatchObject({
      code: 'max_below_amount',
      details: { amount: 2000, maxAmount: 1999 },
    });
  });

  test('a closed lot, or a bid at or after the end, is refused', () => {
    expect(refuse(t, { ...open, status: 'closed' }, { bidderId: 'a', amount: 1000, at: 5 }).code).toBe('lot_closed');
    expect(refuse(t, open, { bidderId: 'a', amount: 1000, at: END }).code).toBe('lot_closed');
    expect(refuse(t, open, { bidderId: 'a', amount: 1000, at: END + 1 }).code).toBe('lot_closed');
    expect(accept(t, open, { bidderId: 'a', amount: 1000, at: END - 1 }).book.leader?.bidderId).toBe('a');
  });

  test('a closed lot is reported first, whatever else is wrong with the bid', () => {
    expect(refuse(t, open, { bidderId: 'seller', amount: -1, at: END }).code).toBe('lot_closed');
  });

  test('a bidder id that is also an object key is just an id', () => {
    const book = run(t, [{ bidderId: 'constructor', amount: 1000 }]);
    expect(book.bidders).toEqual({ constructor: { amount: 1000, maxAmount: 1000 } });
    const again = accept(t, book, { bidderId: '__proto__', amount: 1100, maxAmount: 3000 }).book;
    expect(Object.keys(again.bidders).sort()).toEqual(['__proto__', 'constructor']);
    expect(heldExposure(again)).toEqual(JSON.parse('{"__proto__": 3000}'));
  });
});
