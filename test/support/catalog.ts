import type { TestApi } from './api';
import { answer } from './typed-client';
import { uniqueId } from './temporal';

export interface SeededProduct {
  productId: string;
  sellerId: string;
  unitPrice: number;
  unit: string;
}

/**
 * A subscribable catalog product, seeded the way an operator does it: an admin registers the
 * seller (POST /v1/sellers) and lists the product (POST /v1/admin/products).
 */
export async function seedSubscribableProduct(api: TestApi, over: Partial<Omit<SeededProduct, 'sellerId'>> = {}): Promise<SeededProduct> {
  const admin = api.token(uniqueId('admin-'), ['admin']);
  const sellerId = uniqueId('dairy-');
  const seller = await answer(
    api
      .client(admin)
      .POST('/v1/sellers', { body: { sellerId, name: 'Nandini Dairy', commissionBps: 1000, bankAccountRef: 'HDFC-000123' } }),
  );
  if (seller.status !== 201) throw new Error(`seeding seller: ${seller.status} ${JSON.stringify(seller.body)}`);
  const product = { productId: over.productId ?? uniqueId('milk-'), unitPrice: over.unitPrice ?? 3_000, unit: over.unit ?? '500 ml' };
  const res = await answer(
    api.client(admin).POST('/v1/admin/products', { body: { ...product, sellerId, name: `Toned milk ${product.unit}` } }),
  );
  if (res.status !== 201) throw new Error(`seeding product: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...product, sellerId };
}
