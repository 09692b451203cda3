/**
 * Customer: a customer's whole story on one screen (GET /v1/ops/customers by phone or user id) —
 * wallet and ledger (and the balance on a date), subscriptions with their next deliveries computed
 * live, the calendar of exceptions, "why no delivery on D?", and pause / resume / skip / extra /
 * cancel through the subscription routes; orders with their timeline, market positions and P&L,
 * auction bids and wins, and what staff did.
 */
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { mandi, unwrap, type Schemas } from '../api';
import { rupees, when } from '../format';
import { href } from '../route';
import { StaffAction } from '../StaffAction';
import { Failure } from './Failure';

type Overview = Schemas['CustomerOverview'];
type Subscription = Overview['subscriptions'][number];

const DATE = { placeholder: 'YYYY-MM-DD' };
/** What kind of pause or skip it is, as the schedule records it (domain/schedule/reasons.ts). */
const PAUSE_KINDS = ['vacation', 'special_request', 'system_pause'];
const SKIP_KINDS = ['special_request', 'vacation', 'holiday', 'system_pause'];
type PauseKind = 'vacation' | 'special_request' | 'system_pause';
type SkipKind = 'special_request' | 'vacation' | 'holiday' | 'system_pause';

function Explain({ subscriptionId }: { subscriptionId: string }) {
  const [date, setDate] = useState('');
  const [asked, setAsked] = useState<string | null>(null);
  const answer = useQuery({
    queryKey: ['explain', subscriptionId, asked],
    enabled: asked !== null,
    queryFn: () =>
      unwrap(mandi.GET('/v1/subscriptions/{subscriptionId}/explain', { params: { path: { subscriptionId }, query: { date: asked! } } })),
  });
  return (
    <div className="explain">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setAsked(date);
        }}
      >
        Why no delivery on <input name="explain-date" placeholder="YYYY-MM-DD" value={date} onChange={(e) => setDate(e.target.value)} />
        <button type="submit">Explain</button>
      </form>
      {answer.data && (
        <p data-testid={`explain-${subscriptionId}`}>
          {answer.data.date}: {answer.data.explanation}
          {answer.data.decidedBy.kind === 'exception' &&
            ` (exception ${answer.data.decidedBy.exception.id}, ${answer.data.decidedBy.exception.reason})`}
        </p>
      )}
      {answer.error && <Failure error={answer.error} />}
    </div>
  );
}

function SubscriptionCard({ s }: { s: Subscription }) {
  const path = { subscriptionId: s.subscriptionId };
  return (
    <article className="card" data-testid={`subscription-${s.subscriptionId}`}>
      <h3>
        {s.subscriptionId} · {s.productId} × {s.quantity} · {s.status} · billing {s.billingState}
      </h3>
      <p className="muted">
        {rupees(s.pricePerPeriod)} a period · next renewal {s.nextRenewalDate ?? '—'} · {s.paymentMethod} · {s.timezone}
      </p>
      <p>
        Next deliveries:{' '}
        <span data-testid={`next-deliveries-${s.subscriptionId}`}>
          {s.nextDeliveries.map((d) => `${d.date}×${d.quantity}`).join(', ') || 'none'}
        </span>
      </p>
      <details open={s.exceptions.length > 0}>
        <summary>Exceptions ({s.exceptions.length})</summary>
        <ul>
          {s.exceptions.map((e) => (
            <li key={String(e.id)}>
              {String(e.id)}: {String(e.type)} {String(e.from)} → {String(e.to ?? 'open')} ({String(e.reason)}
              {e.endedAt ? `, ended ${String(e.endedAt)}` : ''}) by {String(e.createdBy)}
            </li>
          ))}
        </ul>
      </details>
      <Explain subscriptionId={s.subscriptionId} />
      {s.status === 'active' && (
        <div className="actions">
          <StaffAction
            label="Pause"
            testId={`pause-${s.subscriptionId}`}
            confirm="Adds a pause (a skip over the dates); the renewal moves by the paused days."
            fields={[
              { name: 'from', label: 'From', ...DATE },
              { name: 'to', label: 'To', ...DATE },
              { name: 'kind', label: 'Kind of pause', options: PAUSE_KINDS },
            ]}
            run={async ({ values, headers }) => {
              const r = await unwrap(
                mandi.POST('/v1/subscriptions/{subscriptionId}/pause', {
                  params: { path, header: headers },
                  body: { from: values.from, to: values.to, reason: values.kind as PauseKind },
                }),
              );
              return `Paused ${values.from} → ${values.to} (exception ${r.exceptionId})`;
            }}
          />
          <StaffAction
            label="Resume"
            confirm="Ends the pauses from a date."
            fields={[{ name: 'from', label: 'From', ...DATE }]}
            run={async ({ values, headers }) => {
              await unwrap(
                mandi.POST('/v1/subscriptions/{subscriptionId}/resume', {
                  params: { path, header: headers },
                  body: { from: values.from },
                }),
              );
              return `Resumed from ${values.from}`;
            }}
          />
          <StaffAction
            label="Skip"
            confirm="Skips deliveries over the dates."
            fields={[
              { name: 'from', label: 'From', ...DATE },
              { name: 'to', label: 'To', ...DATE },
              { name: 'kind', label: 'Kind of skip', options: SKIP_KINDS },
            ]}
            run={async ({ values, headers }) => {
              const r = await unwrap(
                mandi.POST('/v1/subscriptions/{subscriptionId}/skip', {
                  params: { path, header: headers },
                  body: { from: values.from, to: values.to, reason: values.kind as SkipKind },
                }),
              );
              return `Skipped ${values.from} → ${values.to} (exception ${r.exceptionId})`;
            }}
          />
          <StaffAction
            label="Extra delivery"
            confirm="Adds an extra delivery on a date."
            fields={[
              { name: 'date', label: 'Date', ...DATE },
              { name: 'quantity', label: 'Quantity', placeholder: '1' },
            ]}
            run={async ({ values, headers }) => {
              const r = await unwrap(
                mandi.POST('/v1/subscriptions/{subscriptionId}/extra', {
                  params: { path, header: headers },
                  body: { date: values.date, quantity: Number(values.quantity), reason: 'special_request' },
                }),
              );
              return `Extra on ${values.date} (exception ${r.exceptionId})`;
            }}
          />
          <StaffAction
            label="Cancel subscription"
            danger
            confirm="Cancels the subscription from the earliest changeable date; the first 40 characters of the reason are its note."
            run={async ({ reason, headers }) => {
              await unwrap(
                mandi.POST('/v1/subscriptions/{subscriptionId}/cancel', {
                  params: { path, header: headers },
                  body: { reason: reason.slice(0, 40) },
                }),
              );
              return 'Cancelled';
            }}
          />
        </div>
      )}
    </article>
  );
}

function CustomerView({ c, balanceOn, setBalanceOn }: { c: Overview; balanceOn: string; setBalanceOn(d: string): void }) {
  const [date, setDate] = useState(balanceOn);
  return (
    <div data-testid="customer-view">
      <section className="card">
        <h2>{c.userId}</h2>
        <p>
          {c.user
            ? `${c.user.phone ?? 'no phone'} · since ${when(c.user.createdAt)} · last login ${when(c.user.lastLoginAt)}`
            : 'No account row (never logged in)'}{' '}
          · roles {c.roles.join(', ') || '—'}
        </p>
      </section>
      <section className="card">
        <h2>Wallet</h2>
        <p data-testid="wallet">
          Balance {rupees(c.wallet.balance)} · held {rupees(c.wallet.held)} · available {rupees(c.wallet.available)}
        </p>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setBalanceOn(date);
          }}
        >
          Balance on <input placeholder="YYYY-MM-DD" value={date} onChange={(e) => setDate(e.target.value)} />{' '}
          <button type="submit">Show</button>
          {c.wallet.balanceOn && (
            <span data-testid="balance-on">
              {' '}
              {c.wallet.balanceOn.date}:{' '}
              {c.wallet.balanceOn.balance === null
                ? 'not yet (a date still to come)'
                : `${rupees(c.wallet.balanceOn.balance)} at the end of the day (${c.wallet.balanceOn.source === 'snapshot' ? 'nightly snapshot' : 'from the journal'})`}
            </span>
          )}
        </form>
        <table className="grid">
          <thead>
            <tr>
              <th>When</th>
              <th>Amount</th>
              <th>Reason</th>
              <th>Reference</th>
            </tr>
          </thead>
          <tbody>
            {c.wallet.entries.map((e) => (
              <tr key={e.journalId}>
                <td>{when(e.createdAt)}</td>
                <td>{rupees(e.amount)}</td>
                <td>{e.reason}</td>
                <td>
                  {e.refType ?? ''} {e.refId ?? ''} {e.reversesJournalId ? `(reverses ${e.reversesJournalId})` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h2>Subscriptions</h2>
        {c.subscriptions.length === 0 && <p className="empty">None.</p>}
        {c.subscriptions.map((s) => (
          <SubscriptionCard key={s.subscriptionId} s={s} />
        ))}
      </section>
      <section className="card">
        <h2>Orders</h2>
        {c.orders.length === 0 && <p className="empty">None.</p>}
        {c.orders.map((o) => (
          <details key={o.orderId}>
            <summary>
              {o.orderId} · {o.status} · {rupees(o.total)}
              {o.refunded ? ` (refunded ${rupees(o.refunded)})` : ''} · seller{' '}
              <a href={href('seller', { sellerId: o.sellerId })}>{o.sellerId}</a> · {when(o.createdAt)}
            </summary>
            <ol>
              {o.timeline.map((t, i) => (
                <li key={i}>
                  {when(t.at)} {t.type} ({t.actor})
                </li>
              ))}
            </ol>
          </details>
        ))}
      </section>
      <section className="card">
        <h2>Market positions</h2>
        {c.positions.length === 0 && <p className="empty">None.</p>}
        <ul>
          {c.positions.map((p) => (
            <li key={p.marketId}>
              <a href={href('markets', { marketId: p.marketId })}>{p.question}</a> ({p.status}) · cost {rupees(p.cost)} · value{' '}
              {rupees(p.value)} · P&amp;L {rupees(p.pnl)}
            </li>
          ))}
        </ul>
      </section>
      <section className="card">
        <h2>Auctions</h2>
        <p>
          Bids: {c.auctions.bids.map((b) => `${b.title} ${rupees(b.amount)} (${b.lotStatus})`).join('; ') || 'none'}
          <br />
          Wins: {c.auctions.wins.map((w) => `${w.title} ${rupees(w.price)}`).join('; ') || 'none'}
        </p>
      </section>
      <section className="card">
        <h2>Staff actions</h2>
        <ul data-testid="audit">
          {c.audit.map((a, i) => (
            <li key={i}>
              {when(a.at)} {a.actor} ({a.roles.join(', ')}) {a.action} on {a.targetType} {a.targetId}
              {a.details.reason ? <span data-testid="audit-reason"> — {String(a.details.reason)}</span> : ''}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

export function CustomerPage({ query }: { query: URLSearchParams }) {
  const initial = query.get('userId') ?? query.get('phone') ?? '';
  const [text, setText] = useState(initial);
  const [search, setSearch] = useState(initial);
  const [balanceOn, setBalanceOn] = useState('');
  const by = search.startsWith('+') || /^\d[\d ]{6,}$/.test(search) ? { phone: search } : { userId: search };
  const overview = useQuery({
    queryKey: ['customer', search, balanceOn],
    enabled: search !== '',
    queryFn: () => unwrap(mandi.GET('/v1/ops/customers', { params: { query: { ...by, ...(balanceOn ? { balanceOn } : {}) } } })),
  });
  return (
    <section>
      <h1>Customer</h1>
      <form
        className="search"
        onSubmit={(e) => {
          e.preventDefault();
          setSearch(text.trim());
          window.location.hash = href('customer', /^[+\d]/.test(text.trim()) ? { phone: text.trim() } : { userId: text.trim() });
        }}
      >
        <input name="customer" placeholder="Phone (+91…) or user id (usr_…)" value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit" className="primary">
          Find
        </button>
      </form>
      {overview.error && <Failure error={overview.error} />}
      {overview.data && <CustomerView c={overview.data} balanceOn={balanceOn} setBalanceOn={setBalanceOn} />}
    </section>
  );
}
