/**
 * `npm run bench:ledger`: single-transfer transactions (idempotency key + overdraft check) from
 * concurrent clients, against plain one-row INSERT transactions at the same concurrency on the
 * same database, alternated round by round; plus the batched posting path.
 * `ratio` compares against the INSERT sent the way the application sends its queries (knex, parsed
 * and planned on every call). postJournal sends its call as a named prepared statement, so the
 * same INSERT as a prepared statement is measured too (`rawPreparedInsertTxPerSec`,
 * `ratioVsPrepared`): the share of the gap that statement preparation alone does not explain.
 * Also reports each round's ratio, the CPU milliseconds per transfer and per raw INSERT of this
 * process and of the database's backends, and the load average (the machine is shared).
 * Prints one JSON line.
 */
import { accounts, transfer, type JournalEntry } from '../domain/ledger';
import { postJournal, postJournals } from '../db/ledger';
import os from 'node:os';
import type { Db } from '../db/knex';
import { createBenchDatabase } from './support/database';
import { backendPids, cpuSecondsOf } from './support/process-cpu';
import { closedLoop, median, percentile, round } from './support/stats';

/** CPU milliseconds per operation of this process and of the database's backends while `run` ran. */
async function metered(db: Db, run: () => Promise<{ perSec: number; latencies: number[] }>) {
  const pg0 = new Map((await backendPids(db)).map((pid) => [pid, cpuSecondsOf(pid)]));
  const u0 = process.cpuUsage();
  const result = await run();
  const u = process.cpuUsage(u0);
  let pg = 0;
  for (const pid of new Set([...pg0.keys(), ...(await backendPids(db))])) pg += Math.max(0, cpuSecondsOf(pid) - (pg0.get(pid) ?? 0));
  const ops = result.latencies.length;
  return { ...result, cpuMs: { bench: (u.user + u.system) / 1e3 / ops, postgres: (pg * 1e3) / ops } };
}

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const USERS = 2_000;
const BATCH_JOURNALS = 10_000;

async function main(): Promise<void> {
  const bench = await createBenchDatabase('ledger', CLIENTS);
  const { db } = bench;
  try {
    await db.raw(`CREATE TABLE bench_raw (id bigserial PRIMARY KEY, v bigint NOT NULL)`);
    await db.transaction((trx) =>
      postJournals(
        trx,
        Array.from({ length: USERS }, (_, u) => ({
          idempotencyKey: `seed-${u}`,
          reason: 'seed',
          lines: transfer(accounts.externalPsp, accounts.userWallet(`u${u}`), 10_000_000),
        })),
      ),
    );

    let seq = 0;
    // Half peer-to-peer, half fees into the (sharded) platform revenue account.
    const transferOp = async (client: number, i: number) => {
      const from = (client * 7919 + i * 31) % USERS;
      const to = i % 2 ? accounts.platformRevenue : accounts.userWallet(`u${(from + 1 + (i % 97)) % USERS}`);
      await postJournal(db, {
        idempotencyKey: `t-${seq++}`,
        reason: 'transfer',
        lines: transfer(accounts.userWallet(`u${from}`), to, 1 + (i % 50)),
      });
    };
    const rawOp = async (_c: number, i: number) => {
      await db.raw('INSERT INTO bench_raw (v) VALUES (?)', [i]);
    };
    const rawPreparedOp = async (_c: number, i: number) => {
      await db.raw('INSERT INTO bench_raw (v) VALUES (?)', [i]).options({ name: 'bench_raw_insert' });
    };

    await closedLoop(CLIENTS, 1, transferOp); // warm-up
    await closedLoop(CLIENTS, 1, rawOp);
    await closedLoop(CLIENTS, 1, rawPreparedOp);
    const transferRates: number[] = [];
    const rawRates: number[] = [];
    const rawPreparedRates: number[] = [];
    const transferLatencies: number[] = [];
    const cpu = { transfer: { bench: 0, postgres: 0 }, rawInsert: { bench: 0, postgres: 0 } };
    for (let r = 0; r < ROUNDS; r++) {
      const raw = await metered(db, () => closedLoop(CLIENTS, SECONDS, rawOp));
      rawRates.push(raw.perSec);
      rawPreparedRates.push((await closedLoop(CLIENTS, SECONDS, rawPreparedOp)).perSec);
      const t = await metered(db, () => closedLoop(CLIENTS, SECONDS, transferOp));
      transferRates.push(t.perSec);
      transferLatencies.push(...t.latencies);
      for (const k of ['bench', 'postgres'] as const) {
        cpu.transfer[k] += t.cpuMs[k] / ROUNDS;
        cpu.rawInsert[k] += raw.cpuMs[k] / ROUNDS;
      }
    }

    const batchRates: number[] = [];
    for (let r = 0; r < 3; r++) {
      const entries: JournalEntry[] = Array.from({ length: BATCH_JOURNALS }, (_, i) => ({
        idempotencyKey: `batch-${r}-${i}`,
        reason: 'settlement',
        lines: transfer(accounts.userWallet(`u${i % USERS}`), accounts.userWallet(`u${(i + 1) % USERS}`), 1),
      }));
      const t0 = performance.now();
      await db.transaction((trx) => postJournals(trx, entries));
      batchRates.push((BATCH_JOURNALS * 2) / ((performance.now() - t0) / 1000));
    }

    const problems = await db.raw(`SELECT sum(balance)::bigint AS total FROM account_balances`);
    if (problems.rows[0].total !== 0) throw new Error(`ledger does not sum to zero after the benchmark: ${problems.rows[0].total}`);

    const transfersPerSec = median(transferRates);
    const rawInsertTxPerSec = median(rawRates);
    const rawPreparedInsertTxPerSec = median(rawPreparedRates);
    console.log(
      JSON.stringify({
        bench: 'ledger',
        transfersPerSec: Math.round(transfersPerSec),
        rawInsertTxPerSec: Math.round(rawInsertTxPerSec),
        ratio: round(transfersPerSec / rawInsertTxPerSec),
        batchedLinesPerSec: Math.round(median(batchRates)),
        rawPreparedInsertTxPerSec: Math.round(rawPreparedInsertTxPerSec),
        ratioVsPrepared: round(transfersPerSec / rawPreparedInsertTxPerSec),
        p99ms: round(percentile(transferLatencies, 99)),
        ratios: transferRates.map((t, i) => round(t / rawRates[i])),
        cpuMsPerTransfer: { bench: round(cpu.transfer.bench, 3), postgres: round(cpu.transfer.postgres, 3) },
        cpuMsPerRawInsert: { bench: round(cpu.rawInsert.bench, 3), postgres: round(cpu.rawInsert.postgres, 3) },
        clients: CLIENTS,
        rounds: ROUNDS,
        loadavg: os.loadavg().map((l) => round(l, 2)),
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
