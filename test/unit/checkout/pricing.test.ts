import { CartError, priceCart, MAX_CART_LINES, type CatalogEntry } from '../../../domain/checkout';

const catalog = new Map<string, CatalogEntry>([
  ['p1', { productId: 'p1', sellerId: 's1', price: 12_345, active: true }],
  ['p2', { productId: 'p2', sellerId: 's1', price: 99, active: true }],
  ['p3', { productId: 'p3', sellerId: 's2', price: 500, active: true }],
  ['p4', { productId: 'p4', sellerId: 's1', price: 500, active: false }],
]);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof CartError) return err.code;
    throw err;
  }
  return 'no error';
}

test('prices each line as quantity × unit price and sums them exactly', () => {
  const cart = priceCart(
    [
      { productId: 'p1', quantity: 3, unitPrice: 12_345 },
      { productId: 'p2', quantity: 7, unitPrice: 99 },
    ],
    catalog,
  );
  expect(cart).toEqual({
    sellerId: 's1',
    total: 3 * 12_345 + 7 * 99,
    lines: [
      { lineNo: 1, productId: 'p1', quantity: 3, unitPrice: 12_345, amount: 37_035 },
      { lineNo: 2, productId: 'p2', quantity: 7, unitPrice: 99, amount: 693 },
    ],
  });
});

test.each([
  ['empty_cart', []],
  ['unknown_product', [{ productId: 'nope', quantity: 1, unitPrice: 1 }]],
  ['product_inactive', [{ productId: 'p4', quantity: 1, unitPrice: 500 }]],
  ['bad_quantity', [{ productId: 'p1', quantity: 0, unitPrice: 12_345 }]],
  ['bad_quantity', [{ productId: 'p1', quantity: 1.5, unitPrice: 12_345 }]],
  ['bad_quantity', [{ productId: 'p1', quantity: 101, unitPrice: 12_345 }]],
  ['price_changed', [{ productId: 'p1', quantity: 1, unitPrice: 12_000 }]],
  [
    'mixed_sellers',
    [
      { productId: 'p1', quantity: 1, unitPrice: 12_345 },
      { productId: 'p3', quantity: 1, unitPrice: 500 },
    ],
  ],
  [
    'duplicate_product',
    [
      { productId: 'p1', quantity: 1, unitPrice: 12_345 },
      { productId: 'p1', quantity: 2, unitPrice: 12_345 },
    ],
  ],
])('rejects %s', (expected, lines) => {
  expect(code(() => priceCart(lines, catalog))).toBe(expected);
});

test('rejects carts that are too long or too large', () => {
  const many = Array.from({ length: MAX_CART_LINES + 1 }, (_, i) => ({ productId: `x${i}`, quantity: 1, unitPrice: 1 }));
  expect(code(() => priceCart(many, catalog))).toBe('too_many_lines');
  const big = new Map([['b', { productId: 'b', sellerId: 's', price: 10_000_000, active: true }]]);
  expect(code(() => priceCart([{ productId: 'b', quantity: 11, unitPrice: 10_000_000 }], big))).toBe('total_too_large');
});
