/**
 * Benchmark: nightly generation of tomorrow's deliveries for N active subscriptions (default
 * 100,000; `--subscriptions 1000000` for the big run) with a realistic mix of exceptions, through
 * the same batch activity the nightly workflow runs; plus wouldDeliver evaluations per second.
 * Creates, migrates and drops its own database on 127.0.0.1:5432. Prints one JSON line.
 */
import { generateDeliveriesBatch } from '../activities/subscription-generation';
import { addDays, localDateOf, wouldDeliver, type ScheduleException, type ScheduleSubscription } from '../domain/schedule';
import { createBenchDatabase } from './support/database';
import { seedSubscriptions } from './subscription-seed';

const BATCH = 5_000;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function wouldDeliverPerSec(): number {
  const subs: { sub: ScheduleSubscription; ex: ScheduleException[] }[] = [];
  for (let i = 0; i < 64; i++) {
    const start = addDays('2026-01-01', i);
    const base = { createdBy: 'customer', createdAt: '2026-01-02T04:30:00Z' };
    subs.push({
      sub: {
        id: 's' + i,
        startDate: start,
        endDate: null,
        recurrence: i % 2 ? { kind: 'daily' } : { kind: 'days_of_week', days: [1, 3, 5] },
        quantity: 1,
        timezone: 'Asia/Kolkata',
        status: 'active',
      },
      ex: [
        { ...base, id: 'V', type: 'skip', from: addDays(start, 30), to: addDays(start, 40), reason: 'vacation' },
        { ...base, id: 'P', type: 'skip', from: addDays(start, 90), to: null, reason: 'payment_failure', endedAt: addDays(start, 95) },
        {
          ...base,
          id: 'X',
          type: 'deliver_extra',
          from: addDays(start, 35),
          to: addDays(start, 35),
          quantity: 2,
          reason: 'special_request',
        },
      ],
    });
  }
  const dates = Array.from({ length: 200 }, (_, d) => addDays('2026-01-01', d));
  let sink = 0;
  const rates: number[] = [];
  for (let round = 0; round < 12; round++) {
    const t0 = process.hrtime.bigint();
    for (const { sub, ex } of subs) for (const d of dates) sink += wouldDeliver(sub, ex, d).quantity;
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    if (round >= 3) rates.push((subs.length * dates.length) / secs);
  }
  if (sink < 0) console.error(sink);
  rates.sort((a, b) => a - b);
  return Math.round(rates[Math.floor(rates.length / 2)]);
}

async function main(): Promise<void> {
  const n = arg('subscriptions', 100_000);
  const bench = await createBenchDatabase('subs', 4);
  const db = bench.db;
  try {
    const date = addDays(localDateOf(Date.now(), 'Asia/Kolkata'), 1);
    await seedSubscriptions(db, n, { date });

    const t0 = process.hrtime.bigint();
    let afterId = '';
    let subscriptions = 0;
    let deliveries = 0;
    for (;;) {
      const r = await generateDeliveriesBatch(db, { date, timezone: 'Asia/Kolkata', afterId, limit: BATCH });
      if (r.lastId === null) break;
      subscriptions += r.subscriptions;
      deliveries += r.inserted;
      afterId = r.lastId;
      if (r.subscriptions < BATCH) break;
    }
    const generateSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(
      JSON.stringify({
        bench: 'subscriptions',
        subscriptions,
        deliveries,
        generateSeconds: Math.round(generateSeconds * 1000) / 1000,
        deliveriesPerSec: Math.round(deliveries / generateSeconds),
        wouldDeliverPerSec: wouldDeliverPerSec(),
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
