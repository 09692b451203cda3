/**
 * Property tests: random sequences of bids (new bidders, the leader raising, ties, bids below the
 * minimum, malformed amounts, the seller, late bids, buy-now) run through decideBid/decideBuyNow
 * and checked after every step against a model kept here from the inputs alone:
 *  (1) the leader is the sealed second-price reference's winner over each bidder's highest bid, and
 *      the price is the reference's price; a leader raising their own max leaves the price where the
 *      last contested bid put it (lifted only to the reserve), so the price is compared with the
 *      reference over the bids as they stood at that last contested bid,
 *  (2) the price never exceeds the leader's max and never goes down,
 *  (3) replaying the hold changes gives exactly the funds the book says are held,
 *  (4) an accepted bid reached the next minimum of its time (and a valid bid that did is accepted),
 *  (5) the end never moves back and moves only on accepted bids, by the soft-close rule.
 */
import fc from 'fast-check';
import {
  DEFAULT_INCREMENTS,
  decideBid,
  decideBuyNow,
  heldExposure,
  lotOutcome,
  openBook,
  secondChanceCandidates,
  sealedOutcome,
  type AuctionBook,
  type BidInput,
  type HoldChange,
  type IncrementTable,
  type LotTerms,
} from '../../../domain/auction';

// ── generation ─────────────────────────────────────────────────────────────────────────────────

const SELLER = 'seller';
const START = 1_000_000;

const customTable: fc.Arbitrary<IncrementTable> = fc.uniqueArray(fc.integer({ min: 1, max: 200_000 }), { maxLength: 5 }).chain((bounds) =>
  fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: bounds.length + 1, maxLength: bounds.length + 1 }).map((steps) => {
    const sorted = [...bounds].sort((a, b) => a - b);
    return steps.map((step, i) => ({ below: i < sorted.length ? sorted[i] : null, step }));
  }),
);

const termsArb: fc.Arbitrary<LotTerms> = fc
  .record({
    startingPrice: fc.oneof(
      fc.constantFrom(100, 2900, 2999, 3000, 4800, 9500, 29_000, 99_000, 250_000),
      fc.integer({ min: 1, max: 200_000 }),
    ),
    reserveAbove: fc.option(fc.integer({ min: 0, max: 40_000 }), { freq: 2 }),
    buyNowAbove: fc.option(fc.integer({ min: 1, max: 60_000 }), { freq: 2 }),
    softCloseMs: fc.constantFrom(0, 1000, 10_000, 10_000),
    suddenDeath: fc.boolean(),
    increments: fc.oneof({ weight: 2, arbitrary: fc.constant(DEFAULT_INCREMENTS) }, { weight: 1, arbitrary: customTable }),
  })
  .map(({ startingPrice, reserveAbove, buyNowAbove, ...rest }) => ({
    sellerId: SELLER,
    startingPrice,
    reservePrice: reserveAbove === null ? null : startingPrice + reserveAbove,
    buyNowPrice: buyNowAbove === null ? null : startingPrice + buyNowAbove,
    ...rest,
  }));

type BidMode = 'min' | 'above' | 'tie' | 'below' | 'raise' | 'invalid' | 'maxBelow';
/** `dt` moves the clock on; `late` (when set) moves it to that long before the current end, if that is later. */
type Clock = { dt: number; late: number | null };
type Cmd =
  | ({ kind: 'bid'; who: number; mode: BidMode; steps: number; extra: number; paise: number; useMax: boolean; bad: number } & Clock)
  | ({ kind: 'buyNow'; who: number } & Clock);

const dtArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 2500 }) },
  { weight: 1, arbitrary: fc.integer({ min: 2500, max: 40_000 }) },
);
// Near the end: exactly at it, exactly the soft-close time before it, and around those.
const lateArb = fc.option(
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(0) },
    { weight: 6, arbitrary: fc.constantFrom(1, 1000, 9_999, 10_000) },
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 11_000 }) },
  ),
  { freq: 8 },
);
const whoArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 3 }) },
  { weight: 4, arbitrary: fc.constant(4) },
  { weight: 1, arbitrary: fc.constant(5) },
);
const bidArb: fc.Arbitrary<Cmd> = fc.record({
  kind: fc.constant('bid' as const),
  who: whoArb, // 0..3 bidders, 4 = whoever leads now, 5 = the seller
  mode: fc.constantFrom<BidMode>('min', 'above', 'above', 'above', 'tie', 'below', 'raise', 'raise', 'invalid', 'maxBelow'),
  steps: fc.integer({ min: 0, max: 4 }),
  extra: fc.integer({ min: 0, max: 8 }),
  paise: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 150 })),
  useMax: fc.boolean(),
  bad: fc.integer({ min: 0, max: 5 }),
  dt: dtArb,
  late: lateArb,
});
const buyNowArb: fc.Arbitrary<Cmd> = fc.record({ kind: fc.constant('buyNow' as const), who: whoArb, dt: dtArb, late: lateArb });
const cmdsArb = fc.array(fc.oneof({ weight: 30, arbitrary: bidArb }, { weight: 2, arbitrary: buyNowArb }), { maxLength: 60 });
const durationArb = fc.integer({ min: 1000, max: 120_000 });

// ── the model, from the inputs alone ───────────────────────────────────────────────────────────

const stepAt = (price: number, table: IncrementTable) =>
  (table.find((r) => r.below === null || price < r.below) ?? table[table.length - 1]).step;

interface Envelope {
  bidderId: string;
  amount: number;
  maxAmount: number;
  since: number;
}
const ranks = (a: Envelope, b: Envelope) => b.maxAmount - a.maxAmount || a.since - b.since;
const BAD_AMOUNTS = [0, -100, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 2];
const validPaise = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

class Model {
  /** Each bidder's highest accepted bid; a leader's raise keeps the amount that set their position. */
  records = new Map<string, Envelope>();
  /** The records as they stood at the last bid that was not the leader raising their own max. */
  contested = new Map<string, Envelope>();
  price: number | null = null;
  leaderId: string | null = null;
  accepted = 0;
  endsAt: number;
  closed = false;
  held = new Map<string, number>();

  constructor(
    readonly terms: LotTerms,
    endsAt: number,
  ) {
    this.endsAt = endsAt;
  }

  nextMinimum(): number {
    return this.price === null ? this.terms.startingPrice : this.price + stepAt(this.price, this.terms.increments);
  }
  leader(): Envelope | null {
    return this.leaderId === null ? null : this.records.get(this.leaderId)!;
  }

  input(c: Extract<Cmd, { kind: 'bid' }>, at: number): BidInput {
    const leader = this.leader();
    const bidderId = c.who === 5 ? SELLER : c.who === 4 && leader ? leader.bidderId : `b${c.who % 4}`;
    const nm = this.nextMinimum();
    const table = this.terms.increments;
    const withMax = (amount: number) => (c.useMax ? amount + c.extra * stepAt(amount, table) + c.paise : undefined);
    switch (c.mode) {
      case 'min':
        return { bidderId, amount: nm, maxAmount: withMax(nm), at };
      case 'above': {
        const amount = nm + c.steps * stepAt(nm, table) + c.paise;
        return { bidderId, amount, maxAmount: withMax(amount), at };
      }
      case 'below': {
        const amount = Math.max(1, nm - 1 - c.paise);
        return { bidderId, amount, maxAmount: withMax(amount), at };
      }
      case 'tie':
        return { bidderId, amount: nm, maxAmount: Math.max(nm, leader?.maxAmount ?? nm), at };
      case 'raise': {
        const base = bidderId === leader?.bidderId ? leader.maxAmount : nm;
        const maxAmount = base + c.extra * stepAt(base, table) + c.paise;
        return { bidderId, amount: Math.min(nm, maxAmount), maxAmount, at };
      }
      case 'invalid':
        return c.bad % 2 === 0 ? { bidderId, amount: BAD_AMOUNTS[c.bad], at } : { bidderId, amount: nm, maxAmount: BAD_AMOUNTS[c.bad], at };
      case 'maxBelow':
        return { bidderId, amount: nm + 100, maxAmount: nm + 99 - c.paise, at };
    }
  }

  /** The code the rules give this bid, or null when it must be accepted. */
  expectedCode(bid: BidInput): string | null {
    if (this.closed || bid.at >= this.endsAt) return 'lot_closed';
    if (!validPaise(bid.amount) || (bid.maxAmount !== undefined && !validPaise(bid.maxAmount))) return 'invalid_amount';
    const maxAmount = bid.maxAmount ?? bid.amount;
    if (maxAmount < bid.amount) return 'max_below_amount';
    if (bid.bidderId === SELLER) return 'seller_cannot_bid';
    const leader = this.leader();
    if (leader?.bidderId === bid.bidderId) return maxAmount > leader.maxAmount ? null : 'not_above_own_max';
    return bid.amount >= this.nextMinimum() ? null : 'bid_too_low';
  }

  buyNowCode(bidderId: string, at: number): string | null {
    const { buyNowPrice, reservePrice } = this.terms;
    if (this.closed || at >= this.endsAt) return 'lot_closed';
    if (bidderId === SELLER) return 'seller_cannot_bid';
    if (buyNowPrice === null || (reservePrice !== null && buyNowPrice < reservePrice)) return 'buy_now_unavailable';
    if (reservePrice === null) return this.leaderId === null ? null : 'buy_now_unavailable';
    return this.price !== null && this.price >= reservePrice ? 'buy_now_unavailable' : null;
  }

  /** The reference's answer: the winner over every highest bid; the price as last contested, lifted to the reserve. */
  expectedLeaderAndPrice(): { leaderId: string | null; price: number | null } {
    const now = sealedOutcome(this.terms, [...this.records.values()]);
    let price = sealedOutcome(this.terms, [...this.contested.values()]).price;
    const reserve = this.terms.reservePrice;
    const leaderMax = now.winnerId === null ? 0 : this.records.get(now.winnerId)!.maxAmount;
    if (price !== null && reserve !== null && leaderMax >= reserve) price = Math.max(price, reserve);
    return { leaderId: now.winnerId, price };
  }

  replay(holds: HoldChange): void {
    for (const id of holds.release) {
      expect(this.held.has(id)).toBe(true); // only a hold that exists is released
      this.held.delete(id);
    }
    if (holds.place) {
      expect(this.held.has(holds.place.bidderId)).toBe(false); // never two holds for one bidder
      this.held.set(holds.place.bidderId, holds.place.amount);
    }
  }
}

// ── the run ────────────────────────────────────────────────────────────────────────────────────

const deepFreeze = <T>(o: T): T => {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
};

function checkBook(m: Model, book: AuctionBook, before: AuctionBook): void {
  const leader = m.leader();
  // (1) the reference
  const expected = m.expectedLeaderAndPrice();
  expect(book.leader?.bidderId ?? null).toBe(expected.leaderId);
  expect(book.price).toBe(expected.price);
  expect(book.leader).toEqual(leader);
  const losers = [...m.records.values()].filter((e) => e.bidderId !== leader?.bidderId).sort(ranks);
  expect(book.runnerUp?.bidderId ?? null).toBe(losers[0]?.bidderId ?? null);
  expect(book.runnerUp?.maxAmount ?? null).toBe(losers[0]?.maxAmount ?? null);
  expect(book.bidders).toEqual(Object.fromEntries([...m.records].map(([id, e]) => [id, { amount: e.amount, maxAmount: e.maxAmount }])));
  expect(secondChanceCandidates(book, leader ? [leader.bidderId] : [])).toEqual(
    losers.map((e) => ({ bidderId: e.bidderId, amount: e.maxAmount })),
  );
  expect([book.bidCount, book.seq]).toEqual([m.accepted, m.accepted]);
  // (2) the price
  if (book.price !== null) {
    expect(book.price).toBeLessThanOrEqual(book.leader!.maxAmount);
    expect(book.price).toBeGreaterThanOrEqual(before.price ?? m.terms.startingPrice);
  }
  // (3) the funds held
  const held = Object.fromEntries(m.held);
  expect(held).toEqual(heldExposure(book));
  expect(held).toEqual(leader ? { [leader.bidderId]: leader.maxAmount } : {});
  // the outcome
  const reserve = m.terms.reservePrice;
  expect(lotOutcome(m.terms, book)).toEqual(
    leader === null
      ? { kind: 'unsold', reason: 'no_bids' }
      : reserve !== null && book.price! < reserve
        ? { kind: 'unsold', reason: 'reserve_not_met' }
        : { kind: 'sold', winnerId: leader.bidderId, price: book.price },
  );
}

function runBid(m: Model, book: AuctionBook, c: Extract<Cmd, { kind: 'bid' }>, at: number): AuctionBook {
  const bid = m.input(c, at);
  const code = m.expectedCode(bid);
  const nm = m.nextMinimum();
  const d = decideBid(m.terms, deepFreeze(book), bid);
  if (!d.accepted) {
    expect(d.code).toBe(code);
    if (d.code === 'bid_too_low') expect(d.details.nextMinimum).toBe(nm);
    return book; // (5) a refused bid moves nothing, the end included
  }
  expect(code).toBeNull();
  const leaderBefore = m.leader();
  const raise = leaderBefore?.bidderId === bid.bidderId;
  const maxAmount = bid.maxAmount ?? bid.amount;
  // (4) the minimum
  if (!raise) expect(bid.amount).toBeGreaterThanOrEqual(nm);

  const since = m.accepted;
  m.accepted += 1;
  const own = m.records.get(bid.bidderId);
  m.records.set(bid.bidderId, { bidderId: bid.bidderId, amount: raise ? own!.amount : bid.amount, maxAmount, since });
  if (!raise) m.contested = new Map(m.records);
  m.leaderId = [...m.records.values()].sort(ranks)[0].bidderId;

  // (5) the end: soft close or nothing
  const extend = !m.terms.suddenDeath && m.endsAt - at < m.terms.softCloseMs;
  const endsAt = extend ? at + m.terms.softCloseMs : m.endsAt;
  expect(d.book.endsAt).toBe(endsAt);
  expect(d.extendedTo).toBe(extend ? endsAt : null);
  expect(d.book.endsAt).toBeGreaterThanOrEqual(book.endsAt);
  m.endsAt = endsAt;

  // who lost the lead, and a hold change only when the leader or their max changed
  const lostLead = leaderBefore !== null && leaderBefore.bidderId !== m.leaderId ? leaderBefore.bidderId : null;
  expect(d.outbid).toBe(lostLead);
  if (!raise && lostLead === null && leaderBefore !== null) expect(d.holds).toEqual({ place: null, release: [] });
  m.replay(d.holds);

  m.price = d.book.price;
  checkBook(m, d.book, book);
  return d.book;
}

function runBuyNow(m: Model, book: AuctionBook, c: Extract<Cmd, { kind: 'buyNow' }>, at: number): AuctionBook {
  const leader = m.leader();
  const bidderId = c.who === 5 ? SELLER : c.who === 4 && leader ? leader.bidderId : `b${c.who % 4}`;
  const code = m.buyNowCode(bidderId, at);
  const d = decideBuyNow(m.terms, deepFreeze(book), { bidderId, at });
  if (!d.accepted) {
    expect(d.code).toBe(code);
    return book;
  }
  expect(code).toBeNull();
  const price = m.terms.buyNowPrice!;
  expect(d.price).toBe(price);
  expect(d.book).toMatchObject({ status: 'closed', price, endsAt: book.endsAt, bidCount: m.accepted + 1, seq: m.accepted + 1 });
  expect(d.book.leader).toEqual({ bidderId, amount: price, maxAmount: price, since: m.accepted });
  m.replay(d.holds);
  expect(Object.fromEntries(m.held)).toEqual({ [bidderId]: price });
  expect(heldExposure(d.book)).toEqual({ [bidderId]: price });
  expect(lotOutcome(m.terms, d.book)).toEqual({ kind: 'sold', winnerId: bidderId, price });
  m.accepted += 1;
  m.closed = true;
  return d.book;
}

test('every step of random bidding agrees with the model and the sealed reference', () => {
  fc.assert(
    fc.property(termsArb, durationArb, cmdsArb, (terms, duration, cmds) => {
      const m = new Model(terms, START + duration);
      let book = openBook(terms, START + duration);
      let at = START;
      for (const c of cmds) {
        at = c.late === null ? at + c.dt : Math.max(at, m.endsAt - c.late);
        book = c.kind === 'bid' ? runBid(m, book, c, at) : runBuyNow(m, book, c, at);
        expect(book.status).toBe(m.closed ? 'closed' : 'open');
        expect(book.endsAt).toBe(m.endsAt);
      }
    }),
    { numRuns: 400 },
  );
});
