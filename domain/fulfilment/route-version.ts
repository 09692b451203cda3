/**
 * The version token of a route sheet: a short hash of what the delivery person must do — the
 * stops in their order, with quantity, product, address and notes. Outcomes are not part of it,
 * so a phone's own reports never make its copy look stale; an added delivery, a changed quantity,
 * a moved stop or an edited note does. A phone that fetched the sheet once sends the token back
 * (`?since=`, or with its sync) to learn whether it must fetch again.
 */

export interface RouteStop {
  deliveryId: string;
  sequence: number | null;
  quantity: number;
  productId: string;
  addressId: string | null;
  addressLine: string | null;
  notes: string | null;
}

/** FNV-1a over UTF-16 code units, two independent 32-bit lanes: 16 hex characters, the same on every run and machine. */
function fnv64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** The token of stops listed in route order (the order is part of what it covers). */
export function routeVersion(stops: readonly RouteStop[]): string {
  const parts: string[] = [String(stops.length)];
  for (const s of stops) {
    parts.push(
      s.deliveryId,
      String(s.sequence ?? ''),
      String(s.quantity),
      s.productId,
      s.addressId ?? '',
      s.addressLine ?? '',
      s.notes ?? '',
    );
  }
  // A separator no field can contain (the API refuses control characters in text).
  return 'v1-' + fnv64(parts.join('\u0001'));
}
