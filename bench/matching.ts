/**
 * Matching-engine benchmark: the pure OrderBook on a realistic, deterministic command mix.
 *
 *   npx tsx bench/matching.ts [--orders=1000000] [--rounds=7] [--seed=42] [--depth=2000]
 *
 * Mix: the first `depth` (2000) commands seed a resting book of passive GTC orders; then ~70%
 * limit orders (80% GTC / 20% IOC) around a drifting mid over the 19 levels (some aggressive
 * enough to cross), all four side/action combos, 500 users (so a few self-trades), and ~30%
 * cancels of orders that are actually resting at that point. With the defaults this gives
 * ~0.34M fills (mint/transfer/merge ≈ 36/48/16%) per 1M commands and ~180 resting orders on average.
 * Commands are pre-generated
 * with a seeded mulberry32 PRNG (by running them once through a book to learn which orders
 * rest), then: 2 warm-up rounds, `rounds` timed rounds on a fresh book each (median throughput
 * reported), and separate latency rounds timing every 32nd command with process.hrtime.bigint.
 *
 * Prints exactly one JSON line: {"bench":"matching","ordersPerSec":…,"p99us":…,"orders":…}
 * where orders = commands per round (submits + cancels) and ordersPerSec counts both.
 */
import { OrderBook, type NewOrder, type Side, type Action, type TimeInForce, LEVELS, TICK, PAYOUT } from '../domain/market';

function arg(name: string, def: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.slice(name.length + 3)) : def;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Command = { op: 0; order: NewOrder } | { op: 1; orderId: string };

function generate(n: number, seed: number, seedDepth: number): Command[] {
  const rnd = mulberry32(seed);
  const book = new OrderBook('gen');
  const live: string[] = [];
  const pos = new Map<string, number>();
  const addLive = (id: string): void => {
    pos.set(id, live.length);
    live.push(id);
  };
  const dropLive = (id: string): void => {
    const i = pos.get(id);
    if (i === undefined) return;
    const last = live.pop()!;
    if (last !== id) {
      live[i] = last;
      pos.set(last, i);
    }
    pos.delete(id);
  };
  const cmds: Command[] = [];
  let mid = 9; // YES level index of the mid (price 500)
  let next = 0;
  while (cmds.length < n) {
    if (rnd() < 0.05) mid = Math.min(LEVELS - 4, Math.max(3, mid + (rnd() < 0.5 ? -1 : 1)));
    const seeding = cmds.length < seedDepth; // first build a resting book of realistic depth
    if (!seeding && rnd() < 0.3 && live.length > 0) {
      const id = live[Math.floor(rnd() * live.length)];
      cmds.push({ op: 1, orderId: id });
      book.cancel(id);
      dropLive(id);
      continue;
    }
    const side: Side = rnd() < 0.5 ? 'YES' : 'NO';
    const action: Action = rnd() < 0.6 ? 'BUY' : 'SELL';
    const tif: TimeInForce = !seeding && rnd() < 0.2 ? 'IOC' : 'GTC';
    const isBid = (side === 'YES') === (action === 'BUY');
    // Passive orders (qty 1..200) sit 0..4 ticks behind the mid; ~15% of GTCs (and 80% of IOCs, qty 1..60) reach 0..2 ticks through it.
    const aggressive = !seeding && rnd() < (tif === 'IOC' ? 0.8 : 0.15);
    const off = aggressive ? -Math.floor(rnd() * 3) : 1 + Math.floor(rnd() * rnd() * 5);
    let yesIdx = isBid ? mid - off : mid + off;
    yesIdx = Math.min(LEVELS - 1, Math.max(0, yesIdx));
    const yesPrice = (yesIdx + 1) * TICK;
    const price = side === 'YES' ? yesPrice : PAYOUT - yesPrice;
    const quantity = aggressive ? 1 + Math.floor(rnd() * rnd() * 60) : 1 + Math.floor(rnd() * 200);
    const order: NewOrder = {
      orderId: `o${next++}`,
      userId: `u${Math.floor(rnd() * 500)}`,
      side,
      action,
      price,
      quantity,
      tif,
    };
    cmds.push({ op: 0, order });
    const r = book.submit(order);
    if (r.ok) {
      for (const f of r.fills) if (f.makerRemaining === 0) dropLive(f.makerOrderId);
      for (const c of r.selfTradeCancels) dropLive(c.orderId);
      if (r.resting !== null) addLive(order.orderId);
    }
  }
  return cmds;
}

function runRound(cmds: Command[]): { ns: number; sink: number } {
  const book = new OrderBook('bench');
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < cmds.length; i++) {
    const c = cmds[i];
    if (c.op === 0) {
      const r = book.submit(c.order);
      if (r.ok) sink += r.fills.length;
    } else if (book.cancel(c.orderId).ok) sink++;
  }
  const ns = Number(process.hrtime.bigint() - t0);
  return { ns, sink };
}

function latencyRound(cmds: Command[], every: number, out: number[]): void {
  const book = new OrderBook('bench');
  for (let i = 0; i < cmds.length; i++) {
    const c = cmds[i];
    const sample = i % every === 0;
    const t0 = sample ? process.hrtime.bigint() : 0n;
    if (c.op === 0) book.submit(c.order);
    else book.cancel(c.orderId);
    if (sample) out.push(Number(process.hrtime.bigint() - t0));
  }
}

function main(): void {
  const n = arg('orders', 1_000_000);
  const rounds = Math.max(1, arg('rounds', 7));
  const cmds = generate(n, arg('seed', 42), Math.min(n, arg('depth', 2000)));
  for (let w = 0; w < 2; w++) runRound(cmds);
  const rates: number[] = [];
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    const { ns, sink: s } = runRound(cmds);
    sink += s;
    rates.push(cmds.length / (ns / 1e9));
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)];
  const lat: number[] = [];
  for (let r = 0; r < 3; r++) latencyRound(cmds, 32, lat);
  lat.sort((a, b) => a - b);
  const p99ns = lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))];
  if (sink < 0) console.error(sink); // keep the work observable
  console.log(
    JSON.stringify({
      bench: 'matching',
      ordersPerSec: Math.round(median),
      p99us: Math.round(p99ns / 10) / 100,
      orders: cmds.length,
    }),
  );
}

main();
