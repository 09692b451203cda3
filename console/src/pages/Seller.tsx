/**
 * Seller: the payable balance and what is in flight to the bank, orders awaiting dispatch or
 * settlement, and payouts with their status, bank reference and failure code — from the seller
 * routes every seller app uses (staff read anyone's).
 */
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { mandi, unwrap } from '../api';
import { rupees, when } from '../format';
import { href } from '../route';
import { Failure } from './Failure';

/** Orders whose money is still with the platform: paid for, not yet settled to the seller. */
const AWAITING = new Set(['confirmed', 'dispatched', 'delivered', 'settling', 'stuck']);

export function SellerPage({ sellerId }: { sellerId: string | null }) {
  const [text, setText] = useState(sellerId ?? '');
  const id = sellerId ?? '';
  const path = { sellerId: id };
  const balance = useQuery({
    queryKey: ['seller-balance', id],
    enabled: id !== '',
    queryFn: () => unwrap(mandi.GET('/v1/sellers/{sellerId}/balance', { params: { path } })),
  });
  const orders = useQuery({
    queryKey: ['seller-orders', id],
    enabled: id !== '',
    queryFn: () => unwrap(mandi.GET('/v1/orders', { params: { query: { sellerId: id, limit: 100 } } })),
  });
  const payouts = useQuery({
    queryKey: ['seller-payouts', id],
    enabled: id !== '',
    queryFn: () => unwrap(mandi.GET('/v1/sellers/{sellerId}/payouts', { params: { path } })),
  });
  const awaiting = (orders.data?.orders ?? []).filter((o) => AWAITING.has(o.status));
  return (
    <section>
      <h1>Seller</h1>
      <form
        className="search"
        onSubmit={(e) => {
          e.preventDefault();
          window.location.hash = href('seller', { sellerId: text.trim() });
        }}
      >
        <input name="seller" placeholder="Seller id" value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit" className="primary">
          Find
        </button>
      </form>
      {[balance.error, orders.error, payouts.error].filter(Boolean).map((e, i) => (
        <Failure key={i} error={e} />
      ))}
      {balance.data && (
        <p className="card" data-testid="seller-balance">
          Payable {rupees(balance.data.payable)} · on its way to the bank {rupees(balance.data.payoutInFlight)}
        </p>
      )}
      {orders.data && (
        <section className="card">
          <h2>Orders awaiting dispatch or settlement ({awaiting.length})</h2>
          {orders.data.orders.length >= 100 && (
            <p className="muted">Among the seller’s latest 100 orders (GET /v1/orders has no status filter or cursor yet).</p>
          )}
          <table className="grid">
            <thead>
              <tr>
                <th>Order</th>
                <th>Status</th>
                <th>Total</th>
                <th>Buyer</th>
              </tr>
            </thead>
            <tbody>
              {awaiting.map((o) => (
                <tr key={o.orderId}>
                  <td>{o.orderId}</td>
                  <td>{o.status}</td>
                  <td>{rupees(o.total)}</td>
                  <td>
                    <a href={href('customer', { userId: o.buyerId })}>{o.buyerId}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {payouts.data && (
        <section className="card">
          <h2>Payouts</h2>
          <table className="grid">
            <thead>
              <tr>
                <th>Payout</th>
                <th>Status</th>
                <th>Amount</th>
                <th>Bank</th>
                <th>UTR</th>
                <th>Failure</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {payouts.data.payouts.map((p) => (
                <tr key={p.payoutId} data-testid={`payout-${p.payoutId}`}>
                  <td>{p.payoutId}</td>
                  <td>{p.status}</td>
                  <td>{rupees(p.amount)}</td>
                  <td>{p.providerState ?? '—'}</td>
                  <td data-testid="payout-utr">{p.utr ?? '—'}</td>
                  <td>{p.failureCode ? `${p.failureCode}: ${p.failureMessage ?? ''}` : '—'}</td>
                  <td>{when(p.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </section>
  );
}
