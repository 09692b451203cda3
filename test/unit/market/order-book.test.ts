import {
  MAX_QUANTITY,
  OrderBook,
  settleFill,
  type NewOrder,
  type SubmitAccepted,
  type SubmitRejected,
  type SubmitResult,
} from '../../../domain/market';

let n = 0;
function order(o: Partial<NewOrder> & Pick<NewOrder, 'side' | 'action' | 'price'>): NewOrder {
  return { orderId: `o${++n}`, userId: 'u1', quantity: 10, tif: 'GTC', ...o };
}
function ok(r: SubmitResult): SubmitAccepted {
  if (!r.ok) throw new Error(`expected accepted, got ${r.reason}`);
  return r;
}
function rej(r: SubmitResult): SubmitRejected {
  if (r.ok) throw new Error('expected a rejection');
  return r;
}

describe('OrderBook: resting and book sides', () => {
  test('each side/action rests on the right YES side at the right YES price', () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ side: 'YES', action: 'BUY', price: 400 }))); // bid 400
    ok(b.submit(order({ side: 'NO', action: 'SELL', price: 700 }))); // bid 300
    ok(b.submit(order({ side: 'YES', action: 'SELL', price: 600 }))); // ask 600
    ok(b.submit(order({ side: 'NO', action: 'BUY', price: 300 }))); // ask 700
    const s = b.snapshot();
    expect(s.bids).toEqual([
      { price: 400, quantity: 10, orders: 1 },
      { price: 300, quantity: 10, orders: 1 },
    ]);
    expect(s.asks).toEqual([
      { price: 600, quantity: 10, orders: 1 },
      { price: 700, quantity: 10, orders: 1 },
    ]);
    expect([s.bestBid, s.bestAsk, b.bestBid(), b.bestAsk()]).toEqual([400, 600, 400, 600]);
    expect(s.yes).toEqual({ buy: 600, sell: 400 });
    expect(s.no).toEqual({ buy: 600, sell: 400 });
    expect(s.openOrders).toBe(4);
    expect(b.snapshot(1).bids).toEqual([{ price: 400, quantity: 10, orders: 1 }]);
  });

  test('empty book', () => {
    const b = new OrderBook('m');
    const s = b.snapshot();
    expect([s.bestBid, s.bestAsk, s.yes.buy, s.no.sell, s.bids.length, s.asks.length]).toEqual([null, null, null, null, 0, 0]);
    expect(b.bestBid()).toBeNull();
    expect(b.bestAsk()).toBeNull();
    expect(b.size).toBe(0);
  });

  test('resting result carries the remainder', () => {
    const b = new OrderBook('m');
    const r = ok(b.submit(order({ orderId: 'x', userId: 'a', side: 'NO', action: 'BUY', price: 350, quantity: 4 })));
    expect(r).toMatchObject({ status: 'open', filledQty: 0, restingQty: 4, cancelledQty: 0, seq: 1 });
    expect(r.fills).toEqual([]);
    expect(r.resting).toEqual({ orderId: 'x', userId: 'a', side: 'NO', action: 'BUY', price: 350, quantity: 4, remaining: 4, seq: 1 });
    expect(b.getOrder('x')).toEqual(r.resting);
  });
});

describe('OrderBook: mint / transfer / merge', () => {
  test('mint: buy YES resting, buy NO incoming, both pay into escrow; taker gets price improvement', () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ orderId: 'y', userId: 'alice', side: 'YES', action: 'BUY', price: 600, quantity: 5 })));
    const r = ok(b.submit(order({ orderId: 'n', userId: 'bob', side: 'NO', action: 'BUY', price: 450, quantity: 5 })));
    expect(r.fills).toHaveLength(1);
    const f = r.fills[0];
    expect({ ...f }).toEqual({
      marketId: 'm',
      kind: 'mint',
      yesPrice: 600,
      noPrice: 400,
      quantity: 5,
      takerOrderId: 'n',
      takerUserId: 'bob',
      takerSide: 'NO',
      takerAction: 'BUY',
      takerPrice: 400, // limit was 450: improvement to the taker
      makerOrderId: 'y',
      makerUserId: 'alice',
      makerSide: 'YES',
      makerAction: 'BUY',
      makerPrice: 600,
      makerRemaining: 0,
    });
    const s = settleFill(f);
    expect(s.takerCash).toBe(-2000);
    expect(s.makerCash).toBe(-3000);
    expect(s.escrowCash).toBe(5000);
    expect(s.takerCash + s.makerCash + s.escrowCash).toBe(0);
    expect(r.status).toBe('filled');
    expect(b.size).toBe(0);
  });

  test('transfer YES: buyer pays seller at the resting price', () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ orderId: 's', userId: 'alice', side: 'YES', action: 'SELL', price: 550, quantity: 3 })));
    const r = ok(b.submit(order({ orderId: 'b', userId: 'bob', side: 'YES', action: 'BUY', price: 700, quantity: 3 })));
    const f = r.fills[0];
    expect([f.kind, f.yesPrice, f.takerPrice, f.makerPrice, f.quantity]).toEqual(['transfer', 550, 550, 550, 3]);
    const s = settleFill(f);
    expect([s.takerCash, s.makerCash, s.escrowCash]).toEqual([-1650, 1650, 0]);
  });

  test('transfer NO: NO seller meets resting NO buyer, prices in NO terms', () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ orderId: 'nb', userId: 'alice', side: 'NO', action: 'BUY', price: 400, quantity: 2 }))); // ask 600
    const r = ok(b.submit(order({ orderId: 'ns', userId: 'bob', side: 'NO', action: 'SELL', price: 350, quantity: 2 }))); // bid 650
    const f = r.fills[0];
    expect([f.kind, f.yesPrice, f.noPrice, f.takerPrice, f.makerPrice]).toEqual(['transfer', 600, 400, 400, 400]);
    const s = settleFill(f);
    expect([s.takerCash, s.makerCash, s.escrowCash]).toEqual([800, -800, 0]);
  });

  test('merge: sell YES resting, sell NO incoming, escrow pays both 1000 per pair', () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ orderId: 'sy', userId: 'alice', side: 'YES', action: 'SELL', price: 600, quantity: 4 })));
    const r = ok(b.submit(order({ orderId: 'sn', userId: 'bob', side: 'NO', action: 'SELL', price: 300, quantity: 4 })));
    const f = r.fills[0];
    expect([f.kind, f.yesPrice, f.takerPrice, f.makerPrice]).toEqual(['merge', 600, 400, 600]);
    const s = settleFill(f);
    expect([s.takerCash, s.makerCash, s.escrowCash, s.pairsDelta]).toEqual([1600, 2400, -4000, -4]);
  });

  test('no match when prices do not cross', () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ userId: 'a', side: 'YES', action: 'BUY', price: 500 })));
    const r = ok(b.submit(order({ userId: 'b', side: 'NO', action: 'BUY', price: 450 }))); // ask 550 > bid 500
    expect(r.fills).toEqual([]);
    expect(r.status).toBe('open');
    expect([b.bestBid(), b.bestAsk()]).toEqual([500, 550]);
  });
});

describe('OrderBook: price-time priority', () => {
  test('best price first, then oldest first within a level', () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ orderId: 'a', userId: 'u1', side: 'YES', action: 'SELL', price: 550, quantity: 10 })));
    ok(b.submit(order({ orderId: 'b', userId: 'u2', side: 'NO', action: 'BUY', price: 450, quantity: 10 }))); // ask 550
    ok(b.submit(order({ orderId: 'c', userId: 'u3', side: 'YES', action: 'SELL', price: 550, quantity: 10 })));
    ok(b.submit(order({ orderId: 'd', userId: 'u4', side: 'YES', action: 'SELL', price: 500, quantity: 5 })));
    const r = ok(b.submit(order({ orderId: 't', userId: 'u9', side: 'YES', action: 'BUY', price: 600, quantity: 22 })));
    expect(r.fills.map((f) => [f.makerOrderId, f.yesPrice, f.quantity, f.kind, f.makerRemaining])).toEqual([
      ['d', 500, 5, 'transfer', 0],
      ['a', 550, 10, 'transfer', 0],
      ['b', 550, 7, 'mint', 3],
    ]);
    expect(r.status).toBe('filled');
    expect(b.getOrder('b')?.remaining).toBe(3);
    expect(b.snapshot().asks).toEqual([{ price: 550, quantity: 13, orders: 2 }]);
    // b keeps its place ahead of c
    const r2 = ok(b.submit(order({ userId: 'u9', side: 'YES', action: 'BUY', price: 550, quantity: 4 })));
    expect(r2.fills.map((f) => [f.makerOrderId, f.quantity])).toEqual([
      ['b', 3],
      ['c', 1],
    ]);
  });

  test('a limit stops the sweep and the remainder rests at the limit', () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ userId: 'u1', side: 'YES', action: 'SELL', price: 500, quantity: 2 })));
    ok(b.submit(order({ userId: 'u1', side: 'YES', action: 'SELL', price: 650, quantity: 2 })));
    const r = ok(b.submit(order({ orderId: 'bb', userId: 'u2', side: 'YES', action: 'BUY', price: 600, quantity: 5 })));
    expect(r).toMatchObject({ status: 'open', filledQty: 2, restingQty: 3, cancelledQty: 0 });
    expect(r.resting).toMatchObject({ price: 600, remaining: 3, quantity: 5 });
    expect([b.bestBid(), b.bestAsk()]).toEqual([600, 650]);
  });
});

describe('OrderBook: IOC and FOK', () => {
  test('IOC fills what it can and never rests', () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ userId: 'u1', side: 'YES', action: 'BUY', price: 500, quantity: 3 })));
    const r = ok(b.submit(order({ orderId: 'i', userId: 'u2', side: 'YES', action: 'SELL', price: 450, quantity: 8, tif: 'IOC' })));
    expect(r).toMatchObject({ status: 'expired', filledQty: 3, restingQty: 0, cancelledQty: 5, resting: null });
    expect(b.getOrder('i')).toBeNull();
    expect(b.size).toBe(0);
    const r2 = ok(b.submit(order({ orderId: 'i2', userId: 'u2', side: 'YES', action: 'SELL', price: 450, quantity: 8, tif: 'IOC' })));
    expect(r2).toMatchObject({ status: 'expired', filledQty: 0, cancelledQty: 8 });
    expect(b.size).toBe(0);
  });

  test('FOK: all or nothing', () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ userId: 'u1', side: 'NO', action: 'BUY', price: 450, quantity: 3 }))); // ask 550
    ok(b.submit(order({ userId: 'u2', side: 'YES', action: 'SELL', price: 600, quantity: 3 })));
    const before = b.hash();
    const r = rej(b.submit(order({ userId: 'u3', side: 'YES', action: 'BUY', price: 600, quantity: 7, tif: 'FOK' })));
    expect(r.reason).toBe('fok_unfillable');
    expect(r.currentPrice).toBe(550);
    expect(b.hash()).toBe(before);
    const r2 = ok(b.submit(order({ userId: 'u3', side: 'YES', action: 'BUY', price: 600, quantity: 6, tif: 'FOK' })));
    expect(r2).toMatchObject({ status: 'filled', filledQty: 6, cancelledQty: 0, resting: null });
    expect(b.size).toBe(0);
  });

  test("FOK does not count the user's own resting orders as liquidity", () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ userId: 'me', side: 'YES', action: 'SELL', price: 500, quantity: 5 })));
    ok(b.submit(order({ userId: 'other', side: 'YES', action: 'SELL', price: 500, quantity: 5 })));
    const before = b.hash();
    expect(rej(b.submit(order({ userId: 'me', side: 'YES', action: 'BUY', price: 500, quantity: 6, tif: 'FOK' }))).reason).toBe(
      'fok_unfillable',
    );
    expect(b.hash()).toBe(before); // no self-trade cancel on a rejected order
    const r = ok(b.submit(order({ userId: 'me', side: 'YES', action: 'BUY', price: 500, quantity: 5, tif: 'FOK' })));
    expect(r.filledQty).toBe(5);
    expect(r.selfTradeCancels).toHaveLength(1);
  });
});

describe('OrderBook: self-trade prevention', () => {
  test('the resting order of the same user is cancelled and matching continues', () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ orderId: 'mine', userId: 'me', side: 'NO', action: 'BUY', price: 500, quantity: 4 }))); // ask 500
    ok(b.submit(order({ orderId: 'theirs', userId: 'x', side: 'YES', action: 'SELL', price: 500, quantity: 2 })));
    const r = ok(b.submit(order({ orderId: 't', userId: 'me', side: 'YES', action: 'BUY', price: 500, quantity: 5 })));
    expect(r.selfTradeCancels).toEqual([{ orderId: 'mine', userId: 'me', side: 'NO', action: 'BUY', price: 500, cancelledQty: 4, seq: 1 }]);
    expect(r.fills.map((f) => [f.makerOrderId, f.quantity])).toEqual([['theirs', 2]]);
    expect(r.fills.every((f) => f.makerUserId !== f.takerUserId)).toBe(true);
    expect(r).toMatchObject({ status: 'open', filledQty: 2, restingQty: 3 });
    expect(b.getOrder('mine')).toBeNull();
    expect(b.cancel('mine')).toEqual({ ok: false, orderId: 'mine', reason: 'unknown_order' });
    expect(b.snapshot().asks).toEqual([]);
    expect(b.bestBid()).toBe(500);
  });

  test('a non-crossing own order is untouched', () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ orderId: 'mine', userId: 'me', side: 'YES', action: 'SELL', price: 700 })));
    const r = ok(b.submit(order({ userId: 'me', side: 'YES', action: 'BUY', price: 600 })));
    expect(r.selfTradeCancels).toEqual([]);
    expect(b.getOrder('mine')).not.toBeNull();
  });
});

describe('OrderBook: slippage protection', () => {
  function bookWithAsks(): OrderBook {
    const b = new OrderBook('m');
    ok(b.submit(order({ userId: 's1', side: 'YES', action: 'SELL', price: 500, quantity: 10 })));
    ok(b.submit(order({ userId: 's2', side: 'YES', action: 'SELL', price: 550, quantity: 20 })));
    return b;
  }

  test('rejects up front, with no partial fill, when part would fill beyond seen × (1 + 5%)', () => {
    const b = bookWithAsks();
    const before = b.hash();
    const r = rej(b.submit(order({ userId: 'u', side: 'YES', action: 'BUY', price: 950, quantity: 15, seenPrice: 500 })));
    expect(r).toEqual({ ok: false, orderId: expect.any(String), reason: 'slippage', currentPrice: 500, worstAcceptablePrice: 525 });
    expect(b.hash()).toBe(before);
  });

  test('accepts when everything fills within tolerance', () => {
    const b = bookWithAsks();
    const r = ok(b.submit(order({ userId: 'u', side: 'YES', action: 'BUY', price: 950, quantity: 10, seenPrice: 500, tif: 'IOC' })));
    expect(r.filledQty).toBe(10);
    expect(r.fills.every((f) => f.takerPrice <= 525)).toBe(true);
  });

  test('a wider tolerance admits the deeper level', () => {
    const b = bookWithAsks();
    const r = ok(b.submit(order({ userId: 'u', side: 'YES', action: 'BUY', price: 950, quantity: 15, seenPrice: 500, slippageBps: 1000 })));
    expect(r.fills.map((f) => [f.yesPrice, f.quantity])).toEqual([
      [500, 10],
      [550, 5],
    ]);
  });

  test('GTC remainder rests at the clamped (effective) price, not at the loose limit', () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ userId: 's1', side: 'YES', action: 'SELL', price: 500, quantity: 3 })));
    const r = ok(b.submit(order({ userId: 'u', side: 'YES', action: 'BUY', price: 950, quantity: 5, seenPrice: 500 })));
    expect(r).toMatchObject({ status: 'open', filledQty: 3, restingQty: 2 });
    expect(r.resting?.price).toBe(500);
    expect(b.bestBid()).toBe(500);
  });

  test('the limit dominates when tighter than the tolerance', () => {
    const b = bookWithAsks();
    const r = ok(b.submit(order({ userId: 'u', side: 'YES', action: 'BUY', price: 500, quantity: 15, seenPrice: 500 })));
    expect(r).toMatchObject({ filledQty: 10, restingQty: 5 });
  });

  test('NO-side terms: buy NO seen 450 rejects when the book would make it pay 500', () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ userId: 'x', side: 'YES', action: 'BUY', price: 550, quantity: 1 }))); // NO costs 450
    ok(b.submit(order({ userId: 'x', side: 'YES', action: 'BUY', price: 500, quantity: 9 }))); // NO costs 500
    const r = rej(b.submit(order({ userId: 'u', side: 'NO', action: 'BUY', price: 900, quantity: 5, seenPrice: 450 })));
    expect(r.reason).toBe('slippage');
    expect(r.currentPrice).toBe(450); // best NO price now, in NO terms
    expect(r.worstAcceptablePrice).toBe(472);
  });

  test('sells: at least seen × (1 − tol)', () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ userId: 'x', side: 'YES', action: 'BUY', price: 600, quantity: 2 })));
    ok(b.submit(order({ userId: 'x', side: 'YES', action: 'BUY', price: 500, quantity: 5 })));
    const r = rej(b.submit(order({ userId: 'u', side: 'YES', action: 'SELL', price: 50, quantity: 3, seenPrice: 600, tif: 'IOC' })));
    expect(r).toMatchObject({ reason: 'slippage', currentPrice: 600, worstAcceptablePrice: 570 });
    const r2 = ok(b.submit(order({ userId: 'u', side: 'YES', action: 'SELL', price: 50, quantity: 2, seenPrice: 600, tif: 'IOC' })));
    expect(r2.filledQty).toBe(2);
  });

  test("the user's own orders beyond the bound do not trigger a rejection (they would be cancelled, not filled)", () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ userId: 's', side: 'YES', action: 'SELL', price: 500, quantity: 2 })));
    ok(b.submit(order({ orderId: 'own', userId: 'u', side: 'YES', action: 'SELL', price: 700, quantity: 2 })));
    const r = ok(b.submit(order({ userId: 'u', side: 'YES', action: 'BUY', price: 950, quantity: 5, seenPrice: 500 })));
    expect(r.filledQty).toBe(2);
    expect(r.resting?.price).toBe(500);
    expect(b.getOrder('own')).not.toBeNull(); // clamped at 500, never reached
  });
});

describe('OrderBook: cancel', () => {
  test('cancel in the middle of a queue keeps the others in order; best prices update', () => {
    const b = new OrderBook('m');
    for (const id of ['a', 'b', 'c']) ok(b.submit(order({ orderId: id, userId: id, side: 'YES', action: 'BUY', price: 400, quantity: 1 })));
    ok(b.submit(order({ orderId: 'top', userId: 'z', side: 'YES', action: 'BUY', price: 450, quantity: 1 })));
    expect(b.cancel('b')).toEqual({ ok: true, orderId: 'b', userId: 'b', side: 'YES', action: 'BUY', price: 400, cancelledQty: 1, seq: 2 });
    expect(b.bestBid()).toBe(450);
    expect(b.cancel('top').ok).toBe(true);
    expect(b.bestBid()).toBe(400);
    const r = ok(b.submit(order({ userId: 's', side: 'YES', action: 'SELL', price: 400, quantity: 2 })));
    expect(r.fills.map((f) => f.makerOrderId)).toEqual(['a', 'c']);
    expect(b.bestBid()).toBeNull();
  });

  test('unknown, twice, not owner', () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ orderId: 'k', userId: 'me', side: 'NO', action: 'SELL', price: 300, quantity: 7 })));
    expect(b.cancel('nope')).toEqual({ ok: false, orderId: 'nope', reason: 'unknown_order' });
    expect(b.cancel('k', 'someone')).toEqual({ ok: false, orderId: 'k', reason: 'not_owner' });
    expect(b.cancel('k', 'me')).toMatchObject({ ok: true, cancelledQty: 7, price: 300, side: 'NO', action: 'SELL' });
    expect(b.cancel('k')).toMatchObject({ ok: false, reason: 'unknown_order' });
    expect(b.size).toBe(0);
    expect(b.bestBid()).toBeNull();
  });

  test('a cancelled id can be reused (uniqueness is only enforced among resting orders)', () => {
    const b = new OrderBook('m');
    ok(b.submit(order({ orderId: 'dup', side: 'YES', action: 'BUY', price: 100 })));
    expect(rej(b.submit(order({ orderId: 'dup', side: 'YES', action: 'BUY', price: 100 }))).reason).toBe('duplicate_order_id');
    b.cancel('dup');
    expect(b.submit(order({ orderId: 'dup', side: 'YES', action: 'BUY', price: 100 })).ok).toBe(true);
  });
});

describe('OrderBook: invalid input', () => {
  const b = new OrderBook('m');
  const good = (): NewOrder => order({ side: 'YES', action: 'BUY', price: 500 });
  test.each<[string, Partial<NewOrder> | Record<string, unknown>, string]>([
    ['price 0', { price: 0 }, 'invalid_price'],
    ['price 1000', { price: 1000 }, 'invalid_price'],
    ['price 975', { price: 975 }, 'invalid_price'],
    ['price off grid', { price: 525 }, 'invalid_price'],
    ['fractional price', { price: 500.5 }, 'invalid_price'],
    ['NaN price', { price: NaN }, 'invalid_price'],
    ['seenPrice off grid', { seenPrice: 510 }, 'invalid_price'],
    ['quantity 0', { quantity: 0 }, 'invalid_quantity'],
    ['negative quantity', { quantity: -3 }, 'invalid_quantity'],
    ['fractional quantity', { quantity: 1.5 }, 'invalid_quantity'],
    ['huge quantity', { quantity: MAX_QUANTITY + 1 }, 'invalid_quantity'],
    ['slippage > 100%', { seenPrice: 500, slippageBps: 10001 }, 'invalid_slippage'],
    ['negative slippage', { seenPrice: 500, slippageBps: -1 }, 'invalid_slippage'],
    ['bad side', { side: 'MAYBE' }, 'invalid_order'],
    ['bad action', { action: 'HOLD' }, 'invalid_order'],
    ['bad tif', { tif: 'DAY' }, 'invalid_order'],
    ['empty order id', { orderId: '' }, 'invalid_order'],
    ['missing user', { userId: undefined }, 'invalid_order'],
    ['non-integer seq', { seq: 1.5 }, 'invalid_seq'],
  ])('%s', (_name, patch, reason) => {
    const before = b.hash();
    const r = rej(b.submit({ ...good(), ...patch } as NewOrder));
    expect(r.reason).toBe(reason);
    expect(r.currentPrice).toBeNull();
    expect(b.hash()).toBe(before);
    expect(b.lastSequence).toBe(0);
  });
});

describe('OrderBook: sequence numbers', () => {
  test('assigned monotonically; explicit seq must increase', () => {
    const b = new OrderBook('m');
    expect(ok(b.submit(order({ side: 'YES', action: 'BUY', price: 100 }))).seq).toBe(1);
    expect(ok(b.submit(order({ side: 'YES', action: 'BUY', price: 100, seq: 10 }))).seq).toBe(10);
    expect(rej(b.submit(order({ side: 'YES', action: 'BUY', price: 100, seq: 10 }))).reason).toBe('invalid_seq');
    expect(rej(b.submit(order({ side: 'YES', action: 'BUY', price: 100, seq: 5 }))).reason).toBe('invalid_seq');
    expect(ok(b.submit(order({ side: 'YES', action: 'BUY', price: 100 }))).seq).toBe(11);
    expect(b.lastSequence).toBe(11);
    // IOC consumes a seq too (deterministic numbering of accepted orders)
    expect(ok(b.submit(order({ side: 'YES', action: 'BUY', price: 100, tif: 'IOC' }))).seq).toBe(12);
  });
});

describe('OrderBook: hash and restore', () => {
  function build(): OrderBook {
    const b = new OrderBook('m');
    ok(b.submit(order({ orderId: 'h1', userId: 'a', side: 'YES', action: 'BUY', price: 400, quantity: 5 })));
    ok(b.submit(order({ orderId: 'h2', userId: 'b', side: 'NO', action: 'BUY', price: 450, quantity: 5 })));
    ok(b.submit(order({ orderId: 'h3', userId: 'c', side: 'YES', action: 'BUY', price: 400, quantity: 5 })));
    ok(b.submit(order({ orderId: 'h4', userId: 'd', side: 'YES', action: 'SELL', price: 400, quantity: 2 })));
    return b;
  }

  test('deterministic, sensitive to content and to queue order', () => {
    const a = build();
    const b = build();
    expect(a.hash()).toMatch(/^[0-9a-f]{16}$/);
    expect(a.hash()).toBe(b.hash());
    b.cancel('h3');
    expect(b.hash()).not.toBe(a.hash());
    expect(new OrderBook('m').hash()).not.toBe(new OrderBook('other').hash());
    // same orders, different time priority ⇒ different hash
    const x = new OrderBook('m');
    const y = new OrderBook('m');
    x.restore([
      { orderId: 'p', userId: 'a', side: 'YES', action: 'BUY', price: 300, quantity: 1, remaining: 1, seq: 1 },
      { orderId: 'q', userId: 'b', side: 'YES', action: 'BUY', price: 300, quantity: 1, remaining: 1, seq: 2 },
    ]);
    y.restore([
      { orderId: 'q', userId: 'b', side: 'YES', action: 'BUY', price: 300, quantity: 1, remaining: 1, seq: 1 },
      { orderId: 'p', userId: 'a', side: 'YES', action: 'BUY', price: 300, quantity: 1, remaining: 1, seq: 2 },
    ]);
    expect(x.hash()).not.toBe(y.hash());
  });

  test('restore from openOrders gives the same hash, queue order and behaviour', () => {
    const a = build();
    const open = a.openOrders();
    expect(open.map((o) => [o.orderId, o.remaining])).toEqual([
      ['h1', 3],
      ['h2', 5],
      ['h3', 5],
    ]);
    const r = new OrderBook('m');
    r.restore(open.slice().reverse(), a.lastSequence); // input order is irrelevant: seq decides
    expect(r.hash()).toBe(a.hash());
    expect(r.lastSequence).toBe(a.lastSequence);
    expect(r.snapshot()).toEqual(a.snapshot());
    const next = (): NewOrder => ({ orderId: 'z', userId: 'e', side: 'YES', action: 'SELL', price: 400, quantity: 6, tif: 'GTC' });
    expect(r.submit(next())).toEqual(a.submit(next()));
    expect(r.hash()).toBe(a.hash());
  });

  test('restore rejects crossed books, duplicates and bad orders, leaving the book unchanged', () => {
    const a = build();
    const h = a.hash();
    const bid = { orderId: 'b', userId: 'a', side: 'YES' as const, action: 'BUY' as const, price: 600, quantity: 1, remaining: 1, seq: 1 };
    const ask = { orderId: 'k', userId: 'a', side: 'NO' as const, action: 'BUY' as const, price: 450, quantity: 1, remaining: 1, seq: 2 }; // ask 550
    expect(() => a.restore([bid, ask])).toThrow(/crossed/);
    expect(() => a.restore([bid, { ...bid, seq: 2 }])).toThrow(/duplicated/);
    expect(() => a.restore([bid, { ...bid, orderId: 'c' }])).toThrow(/seq/);
    expect(() => a.restore([{ ...bid, remaining: 2 }])).toThrow(/quantity/);
    expect(() => a.restore([{ ...bid, price: 525 }])).toThrow(/price/);
    expect(a.hash()).toBe(h);
    a.restore([]);
    expect(a.size).toBe(0);
    expect(a.hash()).toBe(new OrderBook('m').hash());
  });
});
