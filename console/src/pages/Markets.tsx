/**
 * Markets: open and closed markets with their prices; one market's book; close (suspend trading),
 * resolve and void — admin actions through the market routes, each confirmed with a reason and
 * sent once per click.
 */
import { useQuery } from '@tanstack/react-query';
import { mandi, unwrap } from '../api';
import { rupees, when } from '../format';
import { href } from '../route';
import { StaffAction } from '../StaffAction';
import { Failure } from './Failure';

function MarketDetail({ marketId }: { marketId: string }) {
  const market = useQuery({
    queryKey: ['market', marketId],
    queryFn: () => unwrap(mandi.GET('/v1/markets/{marketId}', { params: { path: { marketId } } })),
    refetchInterval: 3000,
  });
  if (market.error) return <Failure error={market.error} />;
  if (!market.data) return null;
  const m = market.data;
  const path = { marketId };
  const headers = (k: string) => ({ 'Idempotency-Key': k });
  return (
    <section className="card" data-testid="market-detail">
      <h2>{m.question}</h2>
      <p>
        {m.status} · opens {when(m.opensAt)} · closes {when(m.closesAt)} · fee {m.feeBps / 100}%{m.outcome ? ` · outcome ${m.outcome}` : ''}
      </p>
      <p>
        Last price {m.book.lastPrice ?? '—'} · volume {m.book.volume} · YES {m.book.yes.buy ?? '—'}/{m.book.yes.sell ?? '—'} · NO{' '}
        {m.book.no.buy ?? '—'}/{m.book.no.sell ?? '—'}
      </p>
      <div className="book">
        <table className="grid">
          <thead>
            <tr>
              <th>Bids (YES)</th>
              <th>Qty</th>
            </tr>
          </thead>
          <tbody>
            {m.book.bids.map((b) => (
              <tr key={b.price}>
                <td>{b.price}</td>
                <td>{b.quantity}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <table className="grid">
          <thead>
            <tr>
              <th>Asks (YES)</th>
              <th>Qty</th>
            </tr>
          </thead>
          <tbody>
            {m.book.asks.map((a) => (
              <tr key={a.price}>
                <td>{a.price}</td>
                <td>{a.quantity}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="actions">
        <StaffAction
          label="Suspend trading"
          confirm="Closes trading now (admin); the market then waits for its result."
          run={async ({ idempotencyKey }) => {
            const r = await unwrap(
              mandi.POST('/v1/markets/{marketId}/close', { params: { path, header: headers(idempotencyKey) }, body: {} }),
            );
            return `Closed: ${r.phase}`;
          }}
        />
        <StaffAction
          label="Resolve"
          confirm="Records the outcome and its source (admin); pays out after the dispute window."
          fields={[
            { name: 'outcome', label: 'Outcome', options: ['YES', 'NO'] },
            { name: 'source', label: 'Source', placeholder: 'e.g. the official scorecard' },
          ]}
          run={async ({ values, idempotencyKey }) => {
            const r = await unwrap(
              mandi.POST('/v1/markets/{marketId}/resolve', {
                params: { path, header: headers(idempotencyKey) },
                body: { outcome: values.outcome as 'YES' | 'NO', source: values.source },
              }),
            );
            return `Resolved ${values.outcome}: ${r.phase}`;
          }}
        />
        <StaffAction
          label="Void"
          danger
          confirm="Voids the market (admin): every holder is refunded what they paid."
          run={async ({ reason, idempotencyKey }) => {
            const r = await unwrap(
              mandi.POST('/v1/markets/{marketId}/void', { params: { path, header: headers(idempotencyKey) }, body: { reason } }),
            );
            return `Voided: ${r.phase}`;
          }}
        />
      </div>
    </section>
  );
}

export function MarketsPage({ marketId }: { marketId: string | null }) {
  const markets = useQuery({
    queryKey: ['markets'],
    queryFn: () => unwrap(mandi.GET('/v1/markets', { params: { query: { limit: 100 } } })),
  });
  return (
    <section>
      <h1>Markets</h1>
      {markets.error && <Failure error={markets.error} />}
      {marketId && <MarketDetail marketId={marketId} />}
      <table className="grid" data-testid="markets-table">
        <thead>
          <tr>
            <th>Question</th>
            <th>Status</th>
            <th>Closes</th>
            <th>YES buy/sell</th>
            <th>Last</th>
            <th>Volume</th>
          </tr>
        </thead>
        <tbody>
          {(markets.data?.markets ?? []).map((m) => (
            <tr key={m.marketId}>
              <td>
                <a href={href('markets', { marketId: m.marketId })}>{m.question}</a>
              </td>
              <td>{m.status}</td>
              <td>{when(m.closesAt)}</td>
              <td>
                {m.prices.yes.buy ?? '—'}/{m.prices.yes.sell ?? '—'}
              </td>
              <td>{m.prices.lastPrice === null ? '—' : rupees(m.prices.lastPrice)}</td>
              <td>{m.prices.volume}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
