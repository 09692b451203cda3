/**
 * `npm run bench:fulfilment`: the delivery side of a day at scale — 100,000 deliveries across 200
 * areas (500 each, every one with an address and a route sequence).
 *
 * - Route sheet: one area's sheet (the query the route runs, plus its version token) fetched by
 *   `BENCH_ROUTE_CLIENTS` (4) clients at once for a few seconds; p50 and p99 latency. Target p99 ≤ 50 ms.
 * - Sync: every area's delivery person syncs the day's outcomes in batches of 100 (9 in 10
 *   delivered, the rest failed as out of stock, not home or no access, so one in ten is credited
 *   through the ledger), `BENCH_CLIENTS` phones at once, through recordOutcomes — the function the
 *   sync route calls, in one transaction per batch. Throughput is outcomes per second over the
 *   whole day's 100,000. Target: ≥ 0.5 × the rate of plain one-row INSERT transactions from the
 *   same number of clients, measured in the same run just before and just after each sync round
 *   (each round syncs a fresh date, so every outcome is a first report).
 * - Then the end-of-day close of all 200 areas, one after the other (`closeAllAreasSeconds`).
 *
 * Prints one JSON line; ratios and medians are over the rounds. Needs no Temporal server: neither
 * the route sheet nor the sync involves a workflow.
 */
import { DEFAULT_TIMEZONE, addDays } from '../domain/schedule';
import { dayBounds, routeVersion } from '../domain/fulfilment';
import { closeAreaDay } from '../db/fulfilment-day';
import { recordOutcomes, type OutcomeInput } from '../db/fulfilment-outcomes';
import { loadRouteSheet, type RouteSheetEntry } from '../db/fulfilment-route';
import type { Db } from '../db/knex';
import { createBenchDatabase } from './support/database';
import { closedLoop, median, percentile, round } from './support/stats';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
/** Phones fetching route sheets at once (the morning rush of one depot, not the whole city). */
const ROUTE_SHEET_CLIENTS = Number(process.env.BENCH_ROUTE_CLIENTS ?? 4);
const AREAS = 200;
const DELIVERIES = 100_000;
const BATCH = 100;
const FIRST_DATE = '2026-12-05';
const UNIT_PRICE = 3_000;

const areaId = (a: number) => `a${String(a).padStart(3, '0')}`;
const dates = Array.from({ length: ROUNDS }, (_, r) => addDays(FIRST_DATE, r));

/** Set-based: areas with one delivery person each, subscriptions with addresses in route order, a day's deliveries per round. */
async function seed(db: Db): Promise<void> {
  await db.raw(
    `INSERT INTO delivery_areas (id, name, timezone, cutoff, created_by)
     SELECT 'a' || lpad(g::text, 3, '0'), 'Area ' || g, ?, '12:00', 'bench' FROM generate_series(0, ? - 1) AS g`,
    [DEFAULT_TIMEZONE, AREAS],
  );
  await db.raw(`INSERT INTO delivery_area_staff (area_id, user_id, assigned_by) SELECT id, 'staff-' || id, 'bench' FROM delivery_areas`);
  await db.raw(
    `INSERT INTO subscriptions (id, customer_id, product_id, quantity, price_per_period, unit_price, unit, deliveries_per_period,
                                recurrence, start_date, timezone, region, payment_method)
     SELECT 'sub_bench' || lpad(g::text, 8, '0'), 'cust' || g, 'milk-500ml', 1 + g % 3, 90000, ?, '500 ml', 30,
            '{"kind":"daily"}'::jsonb, ?::date, ?, 'a' || lpad((g % ?)::text, 3, '0'), 'pm_ok'
       FROM generate_series(1, ?) AS g`,
    [UNIT_PRICE, FIRST_DATE, DEFAULT_TIMEZONE, AREAS, DELIVERIES],
  );
  await db.raw(
    `INSERT INTO delivery_addresses (id, area_id, customer_id, line, notes, sequence)
     SELECT 'adr_' || lpad(to_hex(g), 24, '0'), 'a' || lpad((g % ?)::text, 3, '0'), 'cust' || g, g || ' 80 Feet Road',
            CASE WHEN g % 7 = 0 THEN 'ring twice' END, (g * 7919) % 1000
       FROM generate_series(1, ?) AS g`,
    [AREAS, DELIVERIES],
  );
  await db.raw(
    `INSERT INTO subscription_addresses (subscription_id, area_id, address_id)
     SELECT 'sub_bench' || lpad(g::text, 8, '0'), 'a' || lpad((g % ?)::text, 3, '0'), 'adr_' || lpad(to_hex(g), 24, '0')
       FROM generate_series(1, ?) AS g`,
    [AREAS, DELIVERIES],
  );
  await db.raw(
    `INSERT INTO deliveries (subscription_id, delivery_date, quantity, reason)
     SELECT s.id, d, s.quantity, 'rule' FROM subscriptions s CROSS JOIN unnest(?::date[]) AS d`,
    [dates],
  );
  await db.raw(`CREATE TABLE bench_raw (id bigserial PRIMARY KEY, v bigint NOT NULL)`);
  await db.raw('ANALYZE');
}

/** What one delivery person reports about the i-th stop of their route. */
function outcomeFor(entry: RouteSheetEntry, i: number, atMs: number): OutcomeInput {
  const kind = i % 30;
  if (kind === 0 || kind === 1 || kind === 2) {
    const reason = (['out_of_stock', 'not_home', 'no_access'] as const)[kind];
    return { deliveryId: entry.deliveryId, outcome: 'failed', reason, note: null, atMs };
  }
  return { deliveryId: entry.deliveryId, outcome: 'delivered', reason: null, note: i % 50 === 0 ? 'left with the guard' : null, atMs };
}

/** Every area's outcomes for `date` as batches of BATCH, each with the delivery person who sends it. */
async function syncBatches(db: Db, date: string): Promise<{ userId: string; outcomes: OutcomeInput[] }[]> {
  const { startMs } = dayBounds(date, DEFAULT_TIMEZONE);
  const batches: { userId: string; outcomes: OutcomeInput[] }[] = [];
  for (let a = 0; a < AREAS; a++) {
    const route = await loadRouteSheet(db, areaId(a), date);
    const outcomes = route.map((e, i) => outcomeFor(e, i, startMs + 6 * 3_600_000 + i * 20_000));
    for (let i = 0; i < outcomes.length; i += BATCH) batches.push({ userId: `staff-${areaId(a)}`, outcomes: outcomes.slice(i, i + BATCH) });
  }
  return batches;
}

/** All of a date's batches from CLIENTS phones at once; outcomes applied per second. */
async function syncRound(db: Db, date: string): Promise<{ perSec: number; applied: number }> {
  const queue = await syncBatches(db, date);
  const nowMs = dayBounds(date, DEFAULT_TIMEZONE).endMs + 3_600_000; // synced after the day, like an offline phone
  let applied = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let b = queue.shift(); b; b = queue.shift()) {
        const answers = await recordOutcomes(db, { userId: b.userId, source: 'staff' }, b.outcomes, nowMs);
        for (const answer of answers) if (answer.result === 'applied') applied++;
      }
    }),
  );
  return { perSec: applied / ((performance.now() - started) / 1000), applied };
}

async function routeSheetLatencies(db: Db): Promise<number[]> {
  const fetchers = Math.min(ROUTE_SHEET_CLIENTS, CLIENTS);
  const { latencies } = await closedLoop(fetchers, SECONDS, async (client, i) => {
    const entries = await loadRouteSheet(db, areaId((client * 37 + i * 11) % AREAS), FIRST_DATE);
    routeVersion(
      entries.map((e) => ({
        deliveryId: e.deliveryId,
        sequence: e.sequence,
        quantity: e.quantity,
        productId: e.product.productId,
        addressId: e.address?.addressId ?? null,
        addressLine: e.address?.line ?? null,
        notes: e.address?.notes ?? null,
      })),
    );
  });
  return latencies;
}

async function main(): Promise<void> {
  const bench = await createBenchDatabase('fulfilment', CLIENTS + 2);
  const { db } = bench;
  try {
    await seed(db);
    const perArea = (await loadRouteSheet(db, areaId(0), FIRST_DATE)).length;
    if (perArea !== DELIVERIES / AREAS) throw new Error(`seeded ${perArea} deliveries in an area, expected ${DELIVERIES / AREAS}`);

    await routeSheetLatencies(db); // warm-up
    const routeLatencies = await routeSheetLatencies(db);

    const rawOp = async (_c: number, i: number) => {
      await db.raw('INSERT INTO bench_raw (v) VALUES (?)', [i]);
    };
    await closedLoop(CLIENTS, 1, rawOp); // warm-up
    const rawRates: number[] = [];
    const syncRates: number[] = [];
    const ratios: number[] = [];
    for (const date of dates) {
      // The baseline on both sides of the sync round (which takes several times as long), so a change
      // in what else the machine is doing during the round moves both figures alike.
      const before = (await closedLoop(CLIENTS, SECONDS, rawOp)).perSec;
      const sync = await syncRound(db, date);
      const raw = (before + (await closedLoop(CLIENTS, SECONDS, rawOp)).perSec) / 2;
      if (sync.applied !== DELIVERIES) throw new Error(`round ${date}: ${sync.applied} outcomes applied, expected ${DELIVERIES}`);
      rawRates.push(raw);
      syncRates.push(sync.perSec);
      ratios.push(sync.perSec / raw);
    }

    const closeStarted = performance.now();
    for (let a = 0; a < AREAS; a++) await db.transaction((trx) => closeAreaDay(trx, areaId(a), FIRST_DATE));
    const closeAllAreasSeconds = (performance.now() - closeStarted) / 1000;

    // What the rounds must have left: every delivery reported, one credit per credited failure, a ledger that sums to zero.
    const check = (
      await db.raw(
        `SELECT (SELECT count(*) FROM deliveries WHERE status = 'scheduled')::int AS scheduled,
                (SELECT count(*) FROM deliveries WHERE credit_journal_id IS NOT NULL)::int AS credited,
                (SELECT count(*) FROM journal WHERE reason = 'missed_delivery_credit')::int AS journals,
                (SELECT COALESCE(sum(balance), 0) FROM account_balances)::bigint AS total`,
      )
    ).rows[0];
    if (check.scheduled !== 0 || check.credited !== check.journals || Number(check.total) !== 0) {
      throw new Error(`inconsistent after the benchmark: ${JSON.stringify(check)}`);
    }

    const syncPerSec = median(syncRates);
    const rawInsertTxPerSec = median(rawRates);
    console.log(
      JSON.stringify({
        bench: 'fulfilment',
        deliveries: DELIVERIES,
        syncPerSec: Math.round(syncPerSec),
        routeSheetP99ms: round(percentile(routeLatencies, 99)),
        rawInsertTxPerSec: Math.round(rawInsertTxPerSec),
        ratio: round(median(ratios)),
        routeSheetP50ms: round(percentile(routeLatencies, 50)),
        routeSheets: routeLatencies.length,
        routeSheetClients: Math.min(ROUTE_SHEET_CLIENTS, CLIENTS),
        areas: AREAS,
        batch: BATCH,
        clients: CLIENTS,
        rounds: ROUNDS,
        ratios: ratios.map((r) => round(r)),
        creditsIssued: check.journals,
        closeAllAreasSeconds: round(closeAllAreasSeconds),
      }),
    );
  } finally {
    await bench.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
