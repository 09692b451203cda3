import { DEFAULT_INCREMENTS, DEFAULT_SOFT_CLOSE_MS, decideBid, openBook, softCloseExtension, type LotTerms } from '../../../domain/auction';

const END = 100_000;
const terms = (t: Partial<LotTerms> = {}): LotTerms => ({
  sellerId: 'seller',
  startingPrice: 1000,
  reservePrice: null,
  buyNowPrice: null,
  softCloseMs: DEFAULT_SOFT_CLOSE_MS,
  suddenDeath: false,
  increments: DEFAULT_INCREMENTS,
  ...t,
});

function accepted(t: LotTerms, at: number, book = openBook(t, END), bidderId = 'a', amount = 1000, maxAmount?: number) {
  const d = decideBid(t, book, { bidderId, amount, maxAmount, at });
  if (!d.accepted) throw new Error(`expected accepted, got ${d.code}`);
  return d;
}

describe('soft close', () => {
  test('the default is ten seconds', () => {
    expect(DEFAULT_SOFT_CLOSE_MS).toBe(10_000);
  });

  test('a bid with exactly the soft-close time left does not extend', () => {
    const d = accepted(terms(), END - 10_000);
    expect(d.extendedTo).toBeNull();
    expect(d.book.endsAt).toBe(END);
  });

  test('a bid with less left moves the end to the soft-close time after it', () => {
    const d = accepted(terms(), END - 9_999);
    expect(d.extendedTo).toBe(END + 1);
    expect(d.book.endsAt).toBe(END + 1);
    const last = accepted(terms(), END - 1);
    expect(last.book.endsAt).toBe(END - 1 + 10_000);
  });

  test('every late bid extends again, from its own time', () => {
    const t = terms();
    const first = accepted(t, END - 2_000);
    const second = accepted(t, first.book.endsAt - 500, first.book, 'b', 1100);
    expect(second.extendedTo).toBe(first.book.endsAt - 500 + 10_000);
  });

  test('a late bid the proxy beats at once still extends: it was accepted', () => {
    const t = terms();
    const leader = accepted(t, 10, openBook(t, END), 'a', 1000, 9000).book;
    const d = accepted(t, END - 100, leader, 'b', 1100);
    expect(d.book.leader?.bidderId).toBe('a');
    expect(d.extendedTo).toBe(END - 100 + 10_000);
  });

  test('the leader raising their max late extends too', () => {
    const t = terms();
    const leader = accepted(t, 10, openBook(t, END), 'a', 1000, 2000).book;
    const d = accepted(t, END - 100, leader, 'a', 1000, 5000);
    expect(d.extendedTo).toBe(END - 100 + 10_000);
  });

  test('a refused late bid moves nothing', () => {
    const t = terms();
    const book = accepted(t, 10).book;
    const d = decideBid(t, book, { bidderId: 'b', amount: 1050, at: END - 100 });
    expect(d).toMatchObject({ accepted: false, code: 'bid_too_low' });
    expect(book.endsAt).toBe(END);
  });

  test('a sudden-death lot ends on time whatever the bids', () => {
    const d = accepted(terms({ suddenDeath: true }), END - 1);
    expect(d.extendedTo).toBeNull();
    expect(d.book.endsAt).toBe(END);
  });

  test('a soft-close time of zero never extends', () => {
    expect(accepted(terms({ softCloseMs: 0 }), END - 1).extendedTo).toBeNull();
  });

  test('softCloseExtension on its own', () => {
    const t = terms({ softCloseMs: 5_000 });
    expect(softCloseExtension(t, END, END - 5_000)).toBeNull();
    expect(softCloseExtension(t, END, END - 4_999)).toBe(END + 1);
    expect(softCloseExtension({ ...t, suddenDeath: true }, END, END - 1)).toBeNull();
  });
});
