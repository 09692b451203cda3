/**
 * Markets: open and closed markets with their prices (filtered by status); one market's book and
 * its recent trading; suspend / resume (in play), close, resolve and void — admin actions through
 * the market routes, each confirmed with a reason and sent once per click.
 */
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { mandi, unwrap, type Schemas } from '../api';
import { rupees, when } from '../format';
import { href } from '../route';
import { StaffAction } from '../StaffAction';
import { Failure } from './Failure';

type MarketStatus = Schemas['Market']['status'];
const STATUSES: MarketStatus[] = ['scheduled', 'open', 'closed', 'resolved', 'settled', 'voided'];

/** The market's last trades one by one, newest first: price, contracts and which side took. */
function LastTrades({ marketId }: { marketId: string }) {
  const trades = useQuery({
    queryKey: ['market-trades', marketId],
    queryFn: () => unwrap(mandi.GET('/v1/markets/{marketId}/trades', { params: { path: { marketId }, query: { limit: 20 } } })),
    refetchInterval: 5000,
  });
  if (trades.error) return <Failure error={trades.error} />;
  const rows = trades.data?.trades ?? [];
  return (
    <table className="grid" data-testid="last-trades">
      <thead>
        <tr>
          <th>At</th>
          <th>YES price</th>
          <th>Contracts</th>
          <th>Taken by</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 && (
          <tr>
            <td colSpan={4} className="empty">
              No trades yet.
            </td>
          </tr>
        )}
        {rows.map((t) => (
          <tr key={`${t.seq}-${t.idx}`}>
            <td>{when(t.at)}</td>
            <td>{t.price}</td>
            <td>{t.quantity}</td>
            <td>
              {t.takerAction} {t.takerSide}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The market's last trades, per minute (price range, contracts and trades in each minute that had
 * any), over the hour before it stopped trading (or before now), newest first.
 */
function RecentTrades({ marketId, until }: { marketId: string; until: string | null }) {
  const to = until ?? null;
  const candles = useQuery({
    queryKey: ['market-candles', marketId, to],
    queryFn: () =>
      unwrap(
        mandi.GET('/v1/markets/{marketId}/candles', {
          params: {
            path: { marketId },
            query: {
              interval: '1m',
              ...(to ? { to, from: new Date(Date.parse(to) - 3_600_000).toISOString() } : {}),
            },
          },
        }),
      ),
    refetchInterval: 5000,
  });
  if (candles.error) return <Failure error={candles.error} />;
  const recent = [...(candles.data?.candles ?? [])].reverse().slice(0, 10);
  return (
    <table className="grid" data-testid="recent-trades">
      <thead>
        <tr>
          <th>Minute</th>
          <th>Trades</th>
          <th>Contracts</th>
          <th>YES price (last, low–high)</th>
        </tr>
      </thead>
      <tbody>
        {recent.length === 0 && (
          <tr>
            <td colSpan={4} className="empty">
              No trades in the hour {to ? 'before it closed' : 'to now'}.
            </td>
          </tr>
        )}
        {recent.map((c) => (
          <tr key={c.start}>
            <td>{when(c.start)}</td>
            <td>{c.trades}</td>
            <td>{c.volume}</td>
            <td>
              {c.close} ({c.low}–{c.high})
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function MarketDetail({ marketId }: { marketId: string }) {
  // What each action answered; kept here, as a suspend's button gives way to resume once it is done.
  const [log, setLog] = useState<string[]>([]);
  const note = (text: string) => setLog((l) => [text, ...l].slice(0, 5));
  const market = useQuery({
    queryKey: ['market', marketId],
    queryFn: () => unwrap(mandi.GET('/v1/markets/{marketId}', { params: { path: { marketId } } })),
    refetchInterval: 3000,
  });
  if (market.error) return <Failure error={market.error} />;
  if (!market.data) return null;
  const m = market.data;
  const path = { marketId };
  return (
    <section className="card" data-testid="market-detail">
      <h2>{m.question}</h2>
      <p>
        <span data-testid="market-status">
          {m.status}
          {m.suspended ? ' · suspended' : ''}
          {m.resumesAt ? ` · trading restarts ${when(m.resumesAt)}` : ''}
        </span>{' '}
        · opens {when(m.opensAt)} · closes {when(m.closesAt)} · fee {m.feeBps / 100}%{m.outcome ? ` · outcome ${m.outcome}` : ''}
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
      <h3>Last trades</h3>
      <LastTrades marketId={marketId} />
      <h3>Trades per minute</h3>
      <RecentTrades marketId={marketId} until={m.closedAt} />
      <div className="actions">
        {!m.suspended && (
          <StaffAction
            onResult={note}
            label="Suspend"
            testId="market-suspend"
            confirm={
              m.suspendCancelsOrders
                ? 'Suspends trading (admin): nothing matches, new orders are refused, resting orders are cancelled and their holds released.'
                : 'Suspends trading (admin): nothing matches and new orders are refused; resting orders are kept.'
            }
            run={async ({ reason, headers }) => {
              // The suspend's `source` (who asked) is audited with the action; the reason goes as X-Staff-Reason.
              const r = await unwrap(
                mandi.POST('/v1/markets/{marketId}/suspend', {
                  params: { path, header: headers },
                  body: { source: `console: ${reason}`.slice(0, 100) },
                }),
              );
              return `Suspended: ${r.phase}`;
            }}
          />
        )}
        {m.suspended && (
          <StaffAction
            onResult={note}
            label="Resume"
            testId="market-resume"
            confirm={`Ends the suspension (admin): trading restarts after ${m.resumeDelaySeconds} s.`}
            run={async ({ headers }) => {
              const r = await unwrap(mandi.POST('/v1/markets/{marketId}/resume', { params: { path, header: headers }, body: {} }));
              return `Resumed: trading restarts ${when(r.resumesAt)}`;
            }}
          />
        )}
        <StaffAction
          onResult={note}
          label="Close trading"
          testId="market-close"
          confirm="Closes trading now for good (admin); the market then waits for its result."
          run={async ({ headers }) => {
            const r = await unwrap(mandi.POST('/v1/markets/{marketId}/close', { params: { path, header: headers }, body: {} }));
            return `Closed: ${r.phase}`;
          }}
        />
        <StaffAction
          onResult={note}
          label="Resolve"
          confirm="Records the outcome and its source (admin); pays out after the dispute window."
          fields={[
            { name: 'outcome', label: 'Outcome', options: ['YES', 'NO'] },
            { name: 'source', label: 'Source', placeholder: 'e.g. the official scorecard' },
          ]}
          run={async ({ values, headers }) => {
            const r = await unwrap(
              mandi.POST('/v1/markets/{marketId}/resolve', {
                params: { path, header: headers },
                body: { outcome: values.outcome as 'YES' | 'NO', source: values.source },
              }),
            );
            return `Resolved ${values.outcome}: ${r.phase}`;
          }}
        />
        <StaffAction
          onResult={note}
          label="Void"
          danger
          confirm="Voids the market (admin): every holder is refunded what they paid."
          run={async ({ reason, headers }) => {
            const r = await unwrap(mandi.POST('/v1/markets/{marketId}/void', { params: { path, header: headers }, body: { reason } }));
            return `Voided: ${r.phase}`;
          }}
        />
      </div>
      {log.length > 0 && (
        <ul className="log" data-testid="market-action-log">
          {log.map((l, i) => (
            <li key={i}>{l}</li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function MarketsPage({ marketId }: { marketId: string | null }) {
  const [status, setStatus] = useState<MarketStatus | ''>('');
  const markets = useQuery({
    queryKey: ['markets', status],
    queryFn: () => unwrap(mandi.GET('/v1/markets', { params: { query: { limit: 100, ...(status ? { status } : {}) } } })),
  });
  return (
    <section>
      <h1>Markets</h1>
      <div className="counts">
        {(['', ...STATUSES] as const).map((s) => (
          <button
            key={s || 'all'}
            type="button"
            data-testid={`market-status-${s || 'all'}`}
            className={status === s ? 'chip current' : 'chip'}
            onClick={() => setStatus(s)}
          >
            {s || 'All'}
          </button>
        ))}
      </div>
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
              <td>
                {m.status}
                {m.suspended ? ' (suspended)' : ''}
              </td>
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
