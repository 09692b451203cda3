/**
 * Reconciliation: one list of everything that needs a human (GET /v1/ops/reconciliation), oldest
 * first, with counts per kind, filters by kind, age and amount, a link to each item's workflow in
 * the Temporal UI, and the action that resolves it (POST /v1/ops/reconciliation/{kind}/{ref}/{action}).
 */
import { useMemo, useState } from 'react';
import { useInfiniteQuery } from '@tanstack/react-query';
import { createColumnHelper, tableFeatures, useTable } from '@tanstack/react-table';
import { mandi, unwrap, type Schemas } from '../api';
import { age, rupees } from '../format';
import { href } from '../route';
import { StaffAction, type ActionField } from '../StaffAction';
import { Failure } from './Failure';

type Item = Schemas['ReconciliationItem'];
type Kind = Item['kind'];
type Action = Item['actions'][number];

const KIND_TITLES: Record<Kind, string> = {
  ledger_drift: 'Ledger drift',
  checkout_stuck: 'Stuck checkouts',
  payout_unsettled: 'Payouts',
  subscription_dunning: 'Dunning',
  market_unresolved: 'Markets overdue',
  market_settlement_unfinished: 'Settlements and voids',
  topup_unconfirmed: 'Top-ups',
  flow_stuck: 'Stuck flows',
};

const ACTIONS: Record<Action, { label: string; what: string; fields?: ActionField[]; danger?: boolean }> = {
  recheck: { label: 'Re-run the check', what: 'Re-derives every balance from the journal and replaces the open drift findings.' },
  retry: {
    label: 'Retry',
    what: 'Sends the flow its retryStep signal: the parked step runs again (for a market, the settlement or the void’s refunds and close-out).',
  },
  abandon: { label: 'Abandon', what: 'Sends abandonStep: the flow compensates (for a checkout: cancel and refund).', danger: true },
  poll: { label: 'Poll the bank', what: 'Sends the payout its pollNow signal: it asks the bank for the outcome now.' },
  mark_settled: {
    label: 'Mark from statement',
    what: 'Settles the payout as the bank statement shows (its markSettled update): paid with the UTR, or failed with the bank’s code — the money then goes back to the seller’s payable. Booked once, as the bank’s own answer would be.',
    fields: [
      { name: 'outcome', label: 'Outcome on the statement', options: ['paid', 'failed'] },
      { name: 'utr', label: 'UTR', placeholder: 'e.g. HDFCN27011134567', when: (v) => v.outcome === 'paid' },
      { name: 'failureCode', label: 'Failure code', placeholder: 'e.g. account_closed', when: (v) => v.outcome === 'failed' },
    ],
  },
  retry_charge: {
    label: 'Retry the charge',
    what: 'Updates the payment method (the one on file by default), which retries the failed renewal now.',
  },
  resolve: {
    label: 'Resolve',
    what: 'Records the outcome and its source (admin); the market settles after its dispute window.',
    fields: [
      { name: 'outcome', label: 'Outcome', options: ['YES', 'NO'] },
      { name: 'source', label: 'Source', placeholder: 'e.g. the official scorecard' },
    ],
  },
  void: { label: 'Void', what: 'Voids the market (admin): every holder is refunded.', danger: true },
};

/** Rupees as typed (e.g. 250 or 99.50) in paise, or null while the text is not an amount. */
function paise(rupeesText: string): number | null {
  return /^\d{1,10}(\.\d{1,2})?$/.test(rupeesText.trim()) ? Math.round(Number(rupeesText.trim()) * 100) : null;
}

const features = tableFeatures({});
const column = createColumnHelper<typeof features, Item>();

/** A top-up's poll asks the payment provider, not the bank. */
function describe(item: Item, action: Action): { label: string; what: string } {
  const a = ACTIONS[action];
  if (item.kind === 'checkout_stuck' && action === 'abandon') return { label: 'Cancel and refund', what: a.what };
  if (item.kind === 'topup_unconfirmed' && action === 'poll')
    return { label: 'Ask the provider', what: 'Sends the top-up its pollNow signal: it asks the payment provider for the outcome now.' };
  return a;
}

/** Marking from the statement is for a payout still waiting on the bank, not one that failed already. */
const offered = (item: Item, action: Action) => action !== 'mark_settled' || item.details.status === 'in_flight';

function ItemAction({ item, action, onResult }: { item: Item; action: Action; onResult(text: string): void }) {
  const a = ACTIONS[action];
  const { label, what } = describe(item, action);
  return (
    <StaffAction
      label={label}
      danger={a.danger}
      fields={a.fields}
      testId={`action-${action}-${item.ref}`}
      confirm={
        <>
          <p>{what}</p>
          <p className="muted">
            {KIND_TITLES[item.kind]} · {item.ref}
          </p>
        </>
      }
      onResult={onResult}
      run={async ({ reason, values, headers }) => {
        const done = await unwrap(
          mandi.POST('/v1/ops/reconciliation/{kind}/{ref}/{action}', {
            params: { path: { kind: item.kind, ref: item.ref, action }, header: headers },
            body: {
              reason,
              ...(values.outcome ? { outcome: values.outcome as 'YES' | 'NO' | 'paid' | 'failed' } : {}),
              ...(values.source ? { source: values.source } : {}),
              ...(values.utr ? { utr: values.utr.trim() } : {}),
              ...(values.failureCode ? { failureCode: values.failureCode.trim() } : {}),
            },
          }),
        );
        const r = done.result as Record<string, unknown>;
        const sent = r.message ? `sent ${String(r.message)}` : 'done';
        const booked = r.status
          ? ` (${String(r.status)}${r.utr ? `, UTR ${String(r.utr)}` : ''}${r.failureCode ? `, ${String(r.failureCode)}` : ''})`
          : '';
        return `${label} ${item.ref}: ${sent}${booked}${r.step ? ` (step ${String(r.step)})` : ''}${r.open !== undefined ? ` (${String(r.open)} open, ${String(r.resolved)} closed)` : ''}`;
      }}
    />
  );
}

export function ReconciliationPage() {
  const [kind, setKind] = useState<Kind | ''>('');
  const [olderThan, setOlderThan] = useState('');
  const [minAmount, setMinAmount] = useState('');
  const [maxAmount, setMaxAmount] = useState('');
  const [log, setLog] = useState<string[]>([]);
  const filters = {
    ...(kind ? { kind } : {}),
    ...(/^\d+[smhd]$/.test(olderThan) ? { olderThan } : {}),
    ...(paise(minAmount) !== null ? { minAmount: paise(minAmount)! } : {}),
    ...(paise(maxAmount) !== null ? { maxAmount: paise(maxAmount)! } : {}),
  };
  const list = useInfiniteQuery({
    queryKey: ['reconciliation', filters],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        mandi.GET('/v1/ops/reconciliation', { params: { query: { ...filters, limit: 50, ...(pageParam ? { cursor: pageParam } : {}) } } }),
      ),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    // Flows resolve themselves (a retried step succeeds a moment later): keep the list current.
    refetchInterval: 2000,
  });
  const items = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);
  const counts = list.data?.pages[0]?.counts;
  const note = (text: string) => setLog((l) => [text, ...l].slice(0, 5));

  const columns = useMemo(
    () =>
      column.columns([
        column.accessor('kind', { header: 'Kind', cell: (c) => KIND_TITLES[c.getValue()] }),
        column.accessor('reason', { header: 'Reason' }),
        column.accessor('ageSeconds', { header: 'Age', cell: (c) => age(c.getValue()) }),
        column.accessor('amount', { header: 'Amount', cell: (c) => rupees(c.getValue()) }),
        column.display({
          id: 'who',
          header: 'Who',
          cell: ({ row }) => (
            <>
              {row.original.customerId && <a href={href('customer', { userId: row.original.customerId })}>{row.original.customerId}</a>}{' '}
              {row.original.sellerId && <a href={href('seller', { sellerId: row.original.sellerId })}>{row.original.sellerId}</a>}
            </>
          ),
        }),
        column.display({
          id: 'workflow',
          header: 'Workflow',
          cell: ({ row }) =>
            row.original.temporalUrl ? (
              <a href={row.original.temporalUrl} target="_blank" rel="noreferrer">
                {row.original.workflowId}
              </a>
            ) : (
              (row.original.workflowId ?? '—')
            ),
        }),
        column.display({
          id: 'actions',
          header: 'Action',
          cell: ({ row }) =>
            row.original.actions
              .filter((a) => offered(row.original, a))
              .map((a) => <ItemAction key={a} item={row.original} action={a} onResult={note} />),
        }),
      ]),
    [],
  );
  const table = useTable({ features, columns, data: items, getRowId: (row) => `${row.kind}:${row.ref}` });

  return (
    <section>
      <h1>Reconciliation</h1>
      <p className="muted">Everything that did not go through and needs a human, oldest first.</p>
      <div className="counts">
        <button type="button" className={kind === '' ? 'chip current' : 'chip'} onClick={() => setKind('')}>
          All {counts ? Object.values(counts).reduce((a, b) => a + b, 0) : ''}
        </button>
        {(Object.keys(KIND_TITLES) as Kind[]).map((k) => (
          <button
            key={k}
            type="button"
            data-testid={`count-${k}`}
            className={kind === k ? 'chip current' : 'chip'}
            onClick={() => setKind(k)}
          >
            {KIND_TITLES[k]} {counts?.[k] ?? 0}
          </button>
        ))}
      </div>
      <div className="filters">
        <label>
          Older than <input name="olderThan" value={olderThan} placeholder="30m, 6h, 2d" onChange={(e) => setOlderThan(e.target.value)} />
        </label>
        <label>
          Amount at least ₹ <input name="minAmount" value={minAmount} placeholder="0" onChange={(e) => setMinAmount(e.target.value)} />
        </label>
        <label>
          at most ₹ <input name="maxAmount" value={maxAmount} placeholder="any" onChange={(e) => setMaxAmount(e.target.value)} />
        </label>
        {kind === '' && (
          <ItemAction
            item={{ kind: 'ledger_drift', ref: 'all', actions: ['recheck'] } as unknown as Item}
            action="recheck"
            onResult={note}
          />
        )}
      </div>
      {log.length > 0 && (
        <ul className="log" data-testid="action-log">
          {log.map((l, i) => (
            <li key={i}>{l}</li>
          ))}
        </ul>
      )}
      {list.error && <Failure error={list.error} />}
      <table className="grid" data-testid="reconciliation-table">
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => (
                <th key={header.id}>{header.isPlaceholder ? null : <table.FlexRender header={header} />}</th>
              ))}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id} data-testid={`item-${row.original.ref}`}>
              {row.getAllCells().map((cell) => (
                <td key={cell.id}>
                  <table.FlexRender cell={cell} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {!list.isPending && items.length === 0 && !list.error && <p className="empty">Nothing needs a human right now.</p>}
      {list.hasNextPage && (
        <button type="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          Load more
        </button>
      )}
    </section>
  );
}
