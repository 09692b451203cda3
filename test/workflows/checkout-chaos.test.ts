import { accounts } from '../../domain/ledger/accounts';
import { cancelSignal, checkoutWorkflowId, markDeliveredSignal } from '../../contracts/checkout';
import type { CheckoutInput, CheckoutState } from '../../contracts/checkout';
import { checkoutWorkflow } from '../../workflows/checkout';
import { balanceOf, expectOrdersBalanced, fundWallet, placeOrder, seedProduct, seedSeller } from '../support/checkout';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { connectClient, uniqueId } from '../support/temporal';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process-handle';

jest.setTimeout(240_000);

let tdb: TestDatabase;

beforeAll(async () => {
  tdb = await createTestDatabase(40);
});
afterAll(async () => {
  await tdb?.drop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('200 concurrent checkouts while workers are SIGKILLed at random points: each ends completed or fully compensated, nothing charged twice', async () => {
  const { client, close } = await connectClient();
  const taskQueue = uniqueId('chaos-');
  let current: WorkerProcess = await spawnWorkerProcess({ databaseUrl: tdb.url, taskQueue });
  const spawned: WorkerProcess[] = [current];
  try {
    const sellerId = await seedSeller(tdb.db, { commissionBps: 1100 });
    const referrer = uniqueId('r_');
    const products = [
      await seedProduct(tdb.db, sellerId, 1_999, 80),
      await seedProduct(tdb.db, sellerId, 501, 80),
      await seedProduct(tdb.db, sellerId, 7_350, 12),
    ];
    const initialStock = new Map<string, number>([
      [products[0], 80],
      [products[1], 80],
      [products[2], 12],
    ]);

    // The mix: wallet-paid, card-paid (wallet short), declined cards, buyers who cancel, scarce stock.
    const inputs: CheckoutInput[] = [];
    const cancellers = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const buyer = uniqueId('b_');
      if (i % 9 === 0) await tdb.db('referrals').insert({ buyer_id: buyer, referrer_id: referrer, rate_bps: 150 });
      const lines = i % 4 === 0 ? [{ productId: products[2], quantity: 1 }] : [{ productId: products[i % 2], quantity: 1 + (i % 2) }];
      let paymentMethod: string | null = null;
      if (i % 5 === 1) paymentMethod = 'pm_ok';
      else if (i % 13 === 2) paymentMethod = 'pm_declined';
      else await fundWallet(tdb.db, buyer, 20_000);
      const input = await placeOrder(tdb.db, {
        buyerId: buyer,
        sellerId,
        lines,
        paymentMethod,
        returnWindowMs: 400,
        deliveryDeadlineMs: 180_000,
      });
      if (i % 11 === 3) cancellers.add(input.orderId);
      inputs.push(input);
    }

    const t0 = performance.now();
    const handles = await Promise.all(
      inputs.map((input) =>
        client.workflow.start(checkoutWorkflow, { taskQueue, workflowId: checkoutWorkflowId(input.orderId), args: [input] }),
      ),
    );
    const results = Promise.all(handles.map((h) => h.result() as Promise<CheckoutState>));

    // Drive deliveries (and cancellations) by signals as orders confirm; signals reach the server
    // even while no worker is alive.
    let driving = true;
    const signalled = new Set<string>();
    const driver = (async () => {
      while (driving) {
        const confirmed: string[] = await tdb.db('orders').whereIn('status', ['confirmed']).pluck('id');
        await Promise.all(
          confirmed
            .filter((id) => !signalled.has(id))
            .map(async (id) => {
              signalled.add(id);
              const h = client.workflow.getHandle(checkoutWorkflowId(id));
              if (cancellers.has(id)) await h.signal(cancelSignal, { by: 'buyer', role: 'buyer' }).catch(() => undefined);
              else await h.signal(markDeliveredSignal, { by: sellerId }).catch(() => undefined);
            }),
        );
        await sleep(150);
      }
    })();

    // Kill the worker three times at random points, each time replacing it with a fresh one.
    for (let kill = 0; kill < 3; kill++) {
      await sleep(800 + Math.floor(Math.random() * 2_500));
      await current.kill();
      const k0 = performance.now();
      current = await spawnWorkerProcess({ databaseUrl: tdb.url, taskQueue });
      console.log(`chaos: kill ${kill + 1} at ${Math.round(k0 - t0)} ms, replacement up in ${Math.round(performance.now() - k0)} ms`);
      spawned.push(current);
    }

    const finals = await results;
    console.log(`chaos: all 200 sagas finished ${Math.round(performance.now() - t0)} ms after start`);
    driving = false;
    await driver;

    if (process.env.CHAOS_DEBUG) {
      const descs = await Promise.all(handles.map(async (h) => ({ h, d: await h.describe() })));
      descs.sort((a, b) => b.d.closeTime!.getTime() - b.d.startTime.getTime() - (a.d.closeTime!.getTime() - a.d.startTime.getTime()));
      for (const { h, d } of descs.slice(0, 3)) {
        const hist = await h.fetchHistory();
        const start = d.startTime.getTime();
        const lines = (hist.events ?? []).map((e) => {
          const t = Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6) - start;
          const attrs = e.activityTaskScheduledEventAttributes?.activityType?.name ?? e.markerRecordedEventAttributes?.markerName ?? '';
          return `${t}ms ${e.eventType} ${attrs}`;
        });
        console.log(`slow ${h.workflowId}:\n${lines.join('\n')}`);
      }
    }
    const byStatus = new Map<string, number>();
    for (const f of finals) byStatus.set(f.status, (byStatus.get(f.status) ?? 0) + 1);
    expect([...byStatus.keys()].every((s) => s === 'completed' || s === 'cancelled')).toBe(true);
    expect(byStatus.get('completed') ?? 0).toBeGreaterThan(50);
    expect(byStatus.get('cancelled') ?? 0).toBeGreaterThan(10);

    for (const f of finals) {
      const order = await tdb.db('orders').where({ id: f.orderId }).first();
      expect(order.status).toBe(f.status);
      if (f.status === 'cancelled') {
        expect(f.compensationsRun[f.compensationsRun.length - 1]).toBe('close_order');
        const left = await tdb.db('reservations').where({ order_id: f.orderId }).whereIn('status', ['held', 'consumed']);
        if (left.length) {
          const events = await tdb.db('order_events').where({ order_id: f.orderId }).orderBy('id').pluck('type');
          throw new Error(`order ${f.orderId} ${JSON.stringify(f)} left ${JSON.stringify(left)} events ${events.join(',')}`);
        }
      } else {
        expect(order.seller_net).not.toBeNull();
      }
      expect(
        await tdb
          .db('fake_provider.payments')
          .where({ idempotency_key: `checkout-${f.orderId}:provider-charge` })
          .count()
          .then((r) => Number(r[0].count)),
      ).toBeLessThanOrEqual(1);
    }
    // Stock: what is gone is exactly what completed orders took.
    for (const [productId, initial] of initialStock) {
      const { stock } = await tdb.db('products').where({ id: productId }).first('stock');
      const [{ sum }] = await tdb.db('reservations').where({ product_id: productId, status: 'consumed' }).sum('quantity');
      expect(stock + Number(sum ?? 0)).toBe(initial);
    }
    // The seller's payable is exactly the net of the completed orders.
    const [{ net }] = await tdb.db('orders').where({ status: 'completed' }).sum({ net: 'seller_net' });
    expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(Number(net));

    await expectOrdersBalanced(tdb.db);
    await expectLedgerInvariants(tdb.db);
  } finally {
    for (const w of spawned) await w.kill();
    await close();
  }
});
