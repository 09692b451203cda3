import fc from 'fast-check';
import { accountPolicy, accounts, isValidAccountName, reversalLines, shardFor, transfer, validateJournal } from '../../domain/ledger';
import { basisPoints, formatRupees } from '../../domain/money';

describe('account policy', () => {
  test.each([
    [accounts.userWallet('7'), false, 1],
    [accounts.orderEscrow('o1'), false, 1],
    [accounts.marketEscrow('m1'), false, 1],
    [accounts.sellerPayoutInFlight('s1'), false, 1],
    [accounts.sellerPayable('s1'), true, 1],
    [accounts.platformRevenue, true, 16],
    [accounts.externalPsp, true, 16],
    [accounts.externalBank, true, 16],
  ])('%s may go negative: %s, shards: %d', (account, mayGoNegative, shards) => {
    expect(accountPolicy(account)).toEqual({ mayGoNegative, shards });
  });

  test('a posting always lands on the same shard, within range', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (key) => {
        const s = shardFor(accounts.platformRevenue, key);
        expect(s).toBe(shardFor(accounts.platformRevenue, key));
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThan(16);
        expect(shardFor(accounts.userWallet('u'), key)).toBe(0);
      }),
    );
  });

  test.each(['user:1:wallet', 'platform:revenue', 'order:ord_1:escrow'])('valid name %s', (n) => expect(isValidAccountName(n)).toBe(true));
  test.each(['user', 'bank:1', 'user:1:wallet:x:y', 'user: 1:wallet', ''])('invalid name %j', (n) =>
    expect(isValidAccountName(n)).toBe(false),
  );
});

describe('journals', () => {
  test('a transfer and its reversal both balance and cancel out', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (amount) => {
        const lines = transfer('user:a:wallet', 'platform:revenue', amount);
        expect(() => validateJournal({ idempotencyKey: 'k', reason: 'r', lines })).not.toThrow();
        const back = reversalLines(lines);
        expect(lines.map((l, i) => l.amount + back[i].amount)).toEqual([0, 0]);
      }),
    );
  });

  test.each([0, -5, 1.5, NaN])('a transfer of %p is refused', (amount) => {
    expect(() => transfer('user:a:wallet', 'platform:revenue', amount)).toThrow();
  });

  test('an empty key, a single line or a non-zero sum is refused', () => {
    const lines = transfer('user:a:wallet', 'platform:revenue', 5);
    expect(() => validateJournal({ idempotencyKey: '', reason: 'r', lines })).toThrow();
    expect(() => validateJournal({ idempotencyKey: 'k', reason: 'r', lines: lines.slice(1) })).toThrow();
    expect(() => validateJournal({ idempotencyKey: 'k', reason: 'r', lines: [lines[0], { ...lines[1], amount: 4 }] })).toThrow(
      /sums to -1/,
    );
  });
});

describe('money', () => {
  test.each([
    [10_000, 250, 250],
    [999, 1_000, 99],
    [1, 5_000, 0],
    [123_456, 10_000, 123_456],
  ])('%d paise at %d bps is %d (rounded down)', (amount, bps, expected) => expect(basisPoints(amount, bps)).toBe(expected));

  test.each([
    [0, '₹0.00'],
    [5, '₹0.05'],
    [123_456_789, '₹12,34,567.89'],
    [-100_000, '-₹1,000.00'],
  ])('%d paise reads %s', (paise, text) => expect(formatRupees(paise)).toBe(text));
});
