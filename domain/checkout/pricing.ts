import { assertPaise, type Paise } from '../money';

/** What the buyer sends: each line with the unit price they were shown. */
export interface CartLine {
  productId: string;
  quantity: number;
  /** The price the buyer saw, in paise; a different current price is a `price_changed` error. */
  unitPrice: Paise;
}

export interface CatalogEntry {
  productId: string;
  sellerId: string;
  price: Paise;
  active: boolean;
}

export interface PricedLine {
  lineNo: number;
  productId: string;
  quantity: number;
  unitPrice: Paise;
  amount: Paise;
}

export interface PricedCart {
  sellerId: string;
  lines: PricedLine[];
  total: Paise;
}

export const MAX_CART_LINES = 50;
export const MAX_LINE_QUANTITY = 100;
/** ₹10,00,000: anything above is not a marketplace basket and is refused before any money moves. */
export const MAX_ORDER_TOTAL: Paise = 100_000_000;

export type CartProblemCode =
  | 'empty_cart'
  | 'too_many_lines'
  | 'duplicate_product'
  | 'bad_quantity'
  | 'unknown_product'
  | 'product_inactive'
  | 'mixed_sellers'
  | 'price_changed'
  | 'total_too_large';

export class CartError extends Error {
  constructor(
    readonly code: CartProblemCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * Prices a cart against the catalog. One order is one seller's (a marketplace splits a mixed basket
 * into one checkout per seller before it gets here). Every amount is integer paise; a line is
 * quantity × unit price exactly, and the total is their sum, so no rounding happens here at all.
 */
export function priceCart(lines: readonly CartLine[], catalog: ReadonlyMap<string, CatalogEntry>): PricedCart {
  if (lines.length === 0) throw new CartError('empty_cart', 'The cart is empty');
  if (lines.length > MAX_CART_LINES) throw new CartError('too_many_lines', `A cart holds at most ${MAX_CART_LINES} lines`);
  const seen = new Set<string>();
  let sellerId: string | null = null;
  let total = 0;
  const priced: PricedLine[] = [];
  lines.forEach((line, i) => {
    if (seen.has(line.productId)) {
      throw new CartError('duplicate_product', `Product ${line.productId} appears twice; send one line with the total quantity`, {
        productId: line.productId,
      });
    }
    seen.add(line.productId);
    if (!Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > MAX_LINE_QUANTITY) {
      throw new CartError('bad_quantity', `Quantity must be 1..${MAX_LINE_QUANTITY}`, { productId: line.productId });
    }
    const product = catalog.get(line.productId);
    if (!product) throw new CartError('unknown_product', `Product ${line.productId} does not exist`, { productId: line.productId });
    if (!product.active)
      throw new CartError('product_inactive', `Product ${line.productId} is not for sale`, { productId: line.productId });
    sellerId ??= product.sellerId;
    if (product.sellerId !== sellerId) {
      throw new CartError('mixed_sellers', 'All lines of one checkout must be from the same seller', { productId: line.productId });
    }
    if (product.price !== line.unitPrice) {
      throw new CartError('price_changed', `The price of ${line.productId} is now ${product.price} paise`, {
        productId: line.productId,
        shown: line.unitPrice,
        current: product.price,
      });
    }
    const amount = assertPaise(product.price * line.quantity, 'line amount');
    total += amount;
    priced.push({ lineNo: i + 1, productId: line.productId, quantity: line.quantity, unitPrice: product.price, amount });
  });
  if (total > MAX_ORDER_TOTAL) throw new CartError('total_too_large', `An order may total at most ${MAX_ORDER_TOTAL} paise`);
  return { sellerId: sellerId!, lines: priced, total };
}
