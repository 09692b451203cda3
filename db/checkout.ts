/**
 * The marketplace catalog the checkout flow sells from: `sellers` (commission, bank account),
 * `products` (price, stock), `referrals` (who referred a buyer). The checkout and seller routes
 * call these; orders themselves are in db/orders.ts, payouts in db/payouts.ts.
 */
import type { Queryable } from './knex';

export interface ProductRow {
  id: string;
  seller_id: string;
  name: string;
  price: number;
  stock: number;
  active: boolean;
}

export interface CartCatalogRow {
  id: string;
  seller_id: string;
  price: number;
  active: boolean;
  /** null: the seller is not registered. */
  commission_bps: number | null;
  referrer_id: string | null;
  rate_bps: number | null;
}

/** One read for a cart: the products with their seller's commission, and the buyer's referrer if any. */
export async function cartCatalog(q: Queryable, buyerId: string, productIds: string[]): Promise<CartCatalogRow[]> {
  const { rows } = await q.raw(
    `SELECT p.id, p.seller_id, p.price, p.active, s.commission_bps, r.referrer_id, r.rate_bps
     FROM products p LEFT JOIN sellers s ON s.id = p.seller_id
     LEFT JOIN referrals r ON r.buyer_id = ?
     WHERE p.id = ANY(?::text[])`,
    [buyerId, productIds],
  );
  return rows;
}

export async function findSeller(q: Queryable, sellerId: string): Promise<{ id: string; bank_account_ref: string } | undefined> {
  return q('sellers').where({ id: sellerId }).first('id', 'bank_account_ref');
}

/** Inserts a seller; a duplicate id raises the unique violation (the caller answers 409). */
export async function insertSeller(
  q: Queryable,
  s: { id: string; name: string; commissionBps: number; bankAccountRef: string },
): Promise<void> {
  await q('sellers').insert({ id: s.id, name: s.name, commission_bps: s.commissionBps, bank_account_ref: s.bankAccountRef });
}

/** Inserts a referral; a buyer that already has a referrer raises the unique violation. */
export async function insertReferral(q: Queryable, r: { buyerId: string; referrerId: string; rateBps: number }): Promise<void> {
  await q('referrals').insert({ buyer_id: r.buyerId, referrer_id: r.referrerId, rate_bps: r.rateBps });
}

/** Inserts a product; a taken id raises the unique violation. */
export async function insertProduct(
  q: Queryable,
  p: { id: string; sellerId: string; name: string; price: number; stock: number },
): Promise<ProductRow> {
  const [row] = await q('products')
    .insert({ id: p.id, seller_id: p.sellerId, name: p.name, price: p.price, stock: p.stock })
    .returning('*');
  return row;
}

export async function findProduct(q: Queryable, productId: string): Promise<ProductRow | undefined> {
  return q('products').where({ id: productId }).first();
}

export async function sellerProducts(q: Queryable, sellerId: string): Promise<ProductRow[]> {
  return q('products').where({ seller_id: sellerId }).orderBy('id');
}

/**
 * Changes a product in one conditional UPDATE (a relative stock change, so it never races a
 * reservation); null when the stock would go below zero.
 */
export async function updateProduct(
  q: Queryable,
  productId: string,
  change: { price?: number; addStock?: number; active?: boolean },
): Promise<ProductRow | null> {
  const { rows } = await q.raw(
    `UPDATE products SET price = coalesce(?, price), stock = stock + ?, active = coalesce(?, active), updated_at = now()
     WHERE id = ? AND stock + ? >= 0 RETURNING *`,
    [change.price ?? null, change.addStock ?? 0, change.active ?? null, productId, change.addStock ?? 0],
  );
  return rows[0] ?? null;
}
