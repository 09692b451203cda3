/**
 * A delivery's public id. A delivery is one subscription on one date (the table's key), so its id
 * is those two written together, `<subscriptionId>-<YYYY-MM-DD>` — readable, derivable by anyone
 * holding the route sheet, and the same on every phone that ever saw it.
 */
import { isValidLocalDate, type LocalDate } from '../schedule';

export function deliveryIdOf(subscriptionId: string, date: LocalDate): string {
  return `${subscriptionId}-${date}`;
}

/** The API's form: a subscription id as the API issues them, then the date. */
export const DELIVERY_ID = /^sub_[a-z0-9]{8,40}-[0-9]{4}-[0-9]{2}-[0-9]{2}$/;

/** The subscription and date of a delivery id, or null when it is not one. */
export function parseDeliveryId(id: string): { subscriptionId: string; date: LocalDate } | null {
  if (typeof id !== 'string' || id.length < 12 || id.length > 140 || id[id.length - 11] !== '-') return null;
  const date = id.slice(-10);
  const subscriptionId = id.slice(0, -11);
  return isValidLocalDate(date) && subscriptionId.length > 0 ? { subscriptionId, date } : null;
}
