/**
 * Reconciliation list benchmark: GET /v1/ops/reconciliation's two reads (a page and the counts
 * per kind) with `open` items needing a human, spread over every kind, among `closed` rows of the
 * same tables that need nobody (resolved alerts, succeeded top-ups, paid payouts, settled markets).
 *
 *   npm run bench:reconciliation [-- --open=10000 --closed=100000 --rounds=41]
 *
 * Measures, per round, the first page (limit 50), a page deep into the list (by cursor), one kind
 * filtered with an age and amount filter, and the counts — each as the route runs it (page and
 * counts in parallel). Baseline in the same run: `SELECT 1` round trips. Target: the route's
 * reads < 200 ms at 10,000 open items. Starts a fresh database on 127.0.0.1:5432, dropped at the
 * end. Prints exactly one JSON line.
 */
import type { Db } from '../db/knex';
import { countReconciliation, listReconciliation, type ReconciliationCursor } from '../db/reconciliation';
import { createBenchDatabase } from './support/database';
import { median, percentile, round } from './support/stats';

function arg(name: string, def: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.slice(name.length + 3)) : def;
}

/**
 * `open` items needing a human, an equal share per kind, waiting from a few minutes to 30 days,
 * and `closed` rows that need nobody. Set-based inserts (generate_series), so 100,000 rows take
 * seconds. Returns the number of open items written per kind.
 */
export async function seedReconciliationLoad(
  db: Db,
  opts: { open: number; closed: number; tag?: string },
): Promise<Record<string, number>> {
  const t = opts.tag ?? 'b';
  const per = Math.max(1, Math.floor(opts.open / 8));
  const age = (i: string) => `now() - (((${i} * 37) % 43200) + 20) * interval '1 minute'`;
  await db.raw(
    `INSERT INTO sellers (id, name, commission_bps, bank_account_ref)
     SELECT 'sel_${t}_' || i, 'Seller ' || i, 1000, 'ok:HDFC0001' FROM generate_series(1, ?) i`,
    [per + 1],
  );
  // checkout_stuck: a stuck order and its open flow alert.
  await db.raw(
    `INSERT INTO orders (id, buyer_id, seller_id, status, total, commission_bps, delivery_deadline_ms, return_window_ms, created_at)
     SELECT 'ord_${t}_' || i, 'usr_${t}_' || (i % 500), 'sel_${t}_1', 'stuck', 100 + (i * 37) % 100000, 1000, 1209600000, 604800000, ${age('i')}
     FROM generate_series(1, ?) i`,
    [per],
  );
  await db.raw(
    `INSERT INTO flow_alerts (workflow_id, flow_type, step, reason, raised_at)
     SELECT 'checkout-ord_${t}_' || i, 'checkout', 'reserve', 'invalid byte sequence', ${age('i')} FROM generate_series(1, ?) i`,
    [per],
  );
  // flow_stuck: other flows' open alerts; closed: resolved alerts.
  await db.raw(
    `INSERT INTO flow_alerts (workflow_id, flow_type, step, reason, raised_at)
     SELECT 'topup-tu_${t}_' || i, 'topup', 'credit', 'invalid byte sequence', ${age('i')} FROM generate_series(1, ?) i`,
    [per],
  );
  await db.raw(
    `INSERT INTO flow_alerts (workflow_id, flow_type, step, reason, raised_at, resolved_at, resolution)
     SELECT 'topup-tu_${t}_done_' || i, 'topup', 'credit', 'fixed', ${age('i')}, now(), 'retried' FROM generate_series(1, ?) i`,
    [opts.closed],
  );
  // payout_unsettled: one payout in flight per seller, the bank's answer unknown; closed: paid ones.
  await db.raw(
    `INSERT INTO payouts (id, seller_id, amount, status, provider_state, bank_account_ref, requested_by, updated_at)
     SELECT 'po_${t}_' || i, 'sel_${t}_' || i, 1000 + i, 'in_flight', 'unknown', 'ok:HDFC0001', 'bench', ${age('i')}
     FROM generate_series(1, ?) i`,
    [per],
  );
  await db.raw(
    `INSERT INTO payouts (id, seller_id, amount, status, provider_state, bank_account_ref, requested_by, created_at, updated_at)
     SELECT 'po_${t}_paid_' || i, 'sel_${t}_' || (1 + i % ?), 1000 + i, 'paid', 'succeeded', 'ok:HDFC0001', 'bench',
       now() - interval '60 days', now() - interval '60 days'
     FROM generate_series(1, ?) i`,
    [per, opts.closed],
  );
  // subscription_dunning, and paid subscriptions beside them.
  await db.raw(
    `INSERT INTO subscriptions (id, customer_id, product_id, quantity, price_per_period, recurrence, start_date, payment_method,
       billing_state, billing_reason, updated_at)
     SELECT 'sub_${t}_' || i, 'usr_${t}_' || (i % 500), 'milk', 1, 1800 + i, '{"kind":"daily"}'::jsonb, current_date, 'pm_declined',
       CASE WHEN i % 2 = 0 THEN 'retrying' ELSE 'payment_failed' END, 'card_declined', ${age('i')}
     FROM generate_series(1, ?) i`,
    [per],
  );
  await db.raw(
    `INSERT INTO subscriptions (id, customer_id, product_id, quantity, price_per_period, recurrence, start_date, payment_method, billing_state)
     SELECT 'sub_${t}_paid_' || i, 'usr_${t}_' || (i % 500), 'milk', 1, 1800, '{"kind":"daily"}'::jsonb, current_date, 'pm_ok', 'paid'
     FROM generate_series(1, ?) i`,
    [opts.closed],
  );
  // market_unresolved and market_settlement_unfinished; closed: settled markets.
  for (const [suffix, status, count] of [
    ['c', 'closed', per],
    ['r', 'resolved', per],
    ['s', 'settled', Math.floor(opts.closed / 10)],
  ] as const) {
    await db.raw(
      `INSERT INTO markets (id, question, opens_at, closes_at, status, outcome, fee_bps, resolution_deadline_seconds, created_by,
         closed_at, resolved_at)
       SELECT 'mk_${t}_${suffix}_' || i, 'Question ' || i, now() - interval '40 days', ${age('i')}, ?, ?, 200, 60, 'bench',
         ${age('i')}, CASE WHEN ? = 'closed' THEN NULL ELSE ${age('i')} END
       FROM generate_series(1, ?) i`,
      [status, status === 'closed' ? null : 'YES', status, count],
    );
  }
  // topup_unconfirmed, and succeeded top-ups.
  await db.raw(
    `INSERT INTO topups (id, user_id, amount, payment_method, status, created_at)
     SELECT 'tu_${t}_' || i, 'usr_${t}_' || (i % 500), 5000 + i, 'pm_timeout', 'awaiting_confirmation', ${age('i')} FROM generate_series(1, ?) i`,
    [per],
  );
  await db.raw(
    `INSERT INTO topups (id, user_id, amount, payment_method, status, created_at)
     SELECT 'tu_${t}_ok_' || i, 'usr_${t}_' || (i % 500), 5000, 'pm_ok', 'succeeded', now() - interval '30 days' FROM generate_series(1, ?) i`,
    [opts.closed],
  );
  // ledger_drift findings.
  await db.raw(
    `INSERT INTO ledger_drift_findings (account_id, shard, kind, stored, derived, found_at)
     SELECT 'user:usr_${t}_' || i || ':wallet', 0, 'balance', 1000, 900, ${age('i')} FROM generate_series(1, ?) i`,
    [per],
  );
  await db.raw('ANALYZE');
  return { perKind: per };
}

async function timed(op: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await op();
  return performance.now() - t0;
}

async function main() {
  const open = arg('open', 10_000);
  const closed = arg('closed', 100_000);
  const rounds = arg('rounds', 41);
  const bench = await createBenchDatabase('reconciliation', 4);
  try {
    const { db } = bench;
    const seedStarted = performance.now();
    await seedReconciliationLoad(db, { open, closed });
    const seedMs = performance.now() - seedStarted;
    const counts = await countReconciliation(db, {});
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    // A cursor deep into the list: walk 40 pages of 50 once.
    let deep: ReconciliationCursor | undefined;
    for (let i = 0; i < 40; i++) deep = (await listReconciliation(db, {}, { limit: 50, cursor: deep })).next ?? deep;
    const route = (f: Parameters<typeof listReconciliation>[1], cursor?: ReconciliationCursor) =>
      Promise.all([listReconciliation(db, f, { limit: 50, cursor }), countReconciliation(db, f)]);
    const samples = { firstPage: [] as number[], deepPage: [] as number[], filtered: [] as number[], baseline: [] as number[] };
    for (let r = 0; r < rounds + 3; r++) {
      const first = await timed(() => route({}));
      const deeper = await timed(() => route({}, deep));
      const filtered = await timed(() => route({ kinds: ['checkout_stuck'], olderThanSeconds: 3600, minAmount: 5_000 }));
      const baseline = await timed(() => db.raw('SELECT 1'));
      if (r < 3) continue; // warm-up: plans, pools, JIT
      samples.firstPage.push(first);
      samples.deepPage.push(deeper);
      samples.filtered.push(filtered);
      samples.baseline.push(baseline);
    }
    const worstMedian = Math.max(median(samples.firstPage), median(samples.deepPage), median(samples.filtered));
    console.log(
      JSON.stringify({
        bench: 'reconciliation',
        openItems: total,
        closedRows: closed * 4 + Math.floor(closed / 10),
        seedMs: round(seedMs, 0),
        rounds,
        firstPageMedianMs: round(median(samples.firstPage)),
        firstPageP95Ms: round(percentile(samples.firstPage, 95)),
        deepPageMedianMs: round(median(samples.deepPage)),
        filteredMedianMs: round(median(samples.filtered)),
        baselineSelect1MedianMs: round(median(samples.baseline), 3),
        targetMs: 200,
        withinTarget: worstMedian < 200,
      }),
    );
  } finally {
    await bench.drop();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
