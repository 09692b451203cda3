import fc from 'fast-check';
import { accounts, transfer } from '../../domain/ledger';
import { InsufficientFundsError } from '../../db/errors';
import { captureHold, placeHold, postJournal, postJournals, releaseHold, reverseJournal } from '../../db/ledger';
import { balanceOn, getBalance, reconcile, snapshotBalances } from '../../db/ledger-reports';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { uniqueId } from '../support/temporal';

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase(60);
});
afterAll(async () => {
  await tdb?.drop();
});
afterEach(async () => {
  await expectLedgerInvariants(tdb.db);
});

/** Money in from the PSP, as a top-up would do. */
async function fund(userId: string, amount: number): Promise<void> {
  await postJournal(tdb.db, {
    idempotencyKey: uniqueId('fund-'),
    reason: 'topup',
    lines: transfer(accounts.externalPsp, accounts.userWallet(userId), amount),
  });
}

describe('postJournal', () => {
  test('moves money and keeps every balance derived from its lines', async () => {
    const alice = uniqueId('alice');
    await fund(alice, 10_000);
    const r = await postJournal(tdb.db, {
      idempotencyKey: uniqueId('k-'),
      reason: 'fee',
      lines: transfer(accounts.userWallet(alice), accounts.platformRevenue, 2_500),
    });
    expect(r.applied).toBe(true);
    expect(await getBalance(tdb.db, accounts.userWallet(alice))).toMatchObject({ balance: 7_500, held: 0, available: 7_500 });
  });

  test('a replayed idempotency key applies once and returns the original journal', async () => {
    const bob = uniqueId('bob');
    const key = uniqueId('replay-');
    const entry = { idempotencyKey: key, reason: 'topup', lines: transfer(accounts.externalPsp, accounts.userWallet(bob), 1_000) };
    const first = await postJournal(tdb.db, entry);
    const again = await Promise.all([postJournal(tdb.db, entry), postJournal(tdb.db, entry), postJournal(tdb.db, entry)]);
    expect(again.map((r) => r.applied)).toEqual([false, false, false]);
    expect(again.every((r) => r.journalId === first.journalId)).toBe(true);
    expect((await getBalance(tdb.db, accounts.userWallet(bob))).balance).toBe(1_000);
  });

  test('an overdraft is refused and writes nothing', async () => {
    const carol = uniqueId('carol');
    await fund(carol, 500);
    const key = uniqueId('over-');
    await expect(
      postJournal(tdb.db, {
        idempotencyKey: key,
        reason: 'spend',
        lines: transfer(accounts.userWallet(carol), accounts.platformRevenue, 501),
      }),
    ).rejects.toBeInstanceOf(InsufficientFundsError);
    expect(await tdb.db('journal').where({ idempotency_key: key }).first()).toBeUndefined();
    expect((await getBalance(tdb.db, accounts.userWallet(carol))).balance).toBe(500);
  });

  test('a user with no account cannot be debited', async () => {
    await expect(
      postJournal(tdb.db, {
        idempotencyKey: uniqueId('ghost-'),
        reason: 'spend',
        lines: transfer(accounts.userWallet(uniqueId('ghost')), accounts.platformRevenue, 1),
      }),
    ).rejects.toBeInstanceOf(InsufficientFundsError);
  });

  test.each([
    [
      'unbalanced',
      [
        { account: 'user:x:wallet', amount: 5 },
        { account: 'platform:revenue', amount: -4 },
      ],
    ],
    ['one line', [{ account: 'user:x:wallet', amount: 0 }]],
    [
      'fractional paise',
      [
        { account: 'user:x:wallet', amount: 1.5 },
        { account: 'platform:revenue', amount: -1.5 },
      ],
    ],
    [
      'bad account name',
      [
        { account: 'wallet of x', amount: 5 },
        { account: 'platform:revenue', amount: -5 },
      ],
    ],
  ])('rejects a malformed journal (%s) before touching the database', async (_name, lines) => {
    const key = uniqueId('bad-');
    await expect(postJournal(tdb.db, { idempotencyKey: key, reason: 'x', lines })).rejects.toThrow();
    expect(await tdb.db('journal').where({ idempotency_key: key }).first()).toBeUndefined();
  });

  test('the database itself refuses an unbalanced journal', async () => {
    await expect(
      tdb.db.raw(
        `SELECT * FROM post_journal('raw-unbalanced', 'x', null, null, 'test', '{}', null, ARRAY['user:a:wallet','platform:revenue'], ARRAY[0,0]::smallint[], ARRAY[5,-4]::bigint[], ARRAY[false,true])`,
      ),
    ).rejects.toThrow(/does not balance/);
  });

  test('journal and lines are append-only', async () => {
    const dave = uniqueId('dave');
    await fund(dave, 100);
    await expect(tdb.db('journal_lines').update({ amount: 1 })).rejects.toThrow(/append-only/);
    await expect(tdb.db('journal').delete()).rejects.toThrow(/append-only/);
  });

  test('50 concurrent debits on one wallet never overdraw it', async () => {
    const erin = uniqueId('erin');
    await fund(erin, 20 * 300); // enough for exactly 20 debits of ₹3
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        postJournal(tdb.db, {
          idempotencyKey: `${erin}-debit-${i}`,
          reason: 'spend',
          lines: transfer(accounts.userWallet(erin), accounts.platformRevenue, 300),
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.filter((r) => r.status === 'rejected' && r.reason instanceof InsufficientFundsError).length;
    expect([ok, refused]).toEqual([20, 30]);
    expect((await getBalance(tdb.db, accounts.userWallet(erin))).balance).toBe(0);
  });

  test('hot platform accounts are spread over shards but read as one balance', async () => {
    const users = Array.from({ length: 40 }, () => uniqueId('shard'));
    for (const u of users) await fund(u, 100);
    const { rows } = await tdb.db.raw(
      `SELECT count(DISTINCT shard)::int AS shards FROM account_balances WHERE account_id = 'external:psp'`,
    );
    expect(rows[0].shards).toBeGreaterThan(4);
    const psp = await getBalance(tdb.db, accounts.externalPsp);
    const { rows: others } = await tdb.db.raw(`SELECT sum(balance)::bigint AS s FROM account_balances WHERE account_id <> 'external:psp'`);
    expect(psp.balance).toBe(-others[0].s);
  });
});

describe('posting path', () => {
  test('postJournal runs as one named prepared statement, reused on its connection', async () => {
    const lea = uniqueId('lea');
    await fund(lea, 1_000);
    const rows = await tdb.db.transaction(async (trx) => {
      for (let i = 0; i < 3; i++) {
        await postJournal(trx, {
          idempotencyKey: uniqueId('prep-'),
          reason: 'fee',
          lines: transfer(accounts.userWallet(lea), accounts.platformRevenue, 100),
        });
      }
      const { rows } = await trx.raw(
        `SELECT statement, generic_plans + custom_plans AS runs FROM pg_prepared_statements WHERE name = 'ledger_post_journal'`,
      );
      return rows as Array<{ statement: string; runs: number }>;
    });
    expect(rows).toHaveLength(1);
    expect(rows[0].statement).toMatch(/post_journal\(/);
    expect(rows[0].runs).toBeGreaterThanOrEqual(3);
    expect((await getBalance(tdb.db, accounts.userWallet(lea))).balance).toBe(700);
  });

  test('journals are found by their reference through the reference index; refless ones stay out of it', async () => {
    const orderId = uniqueId('ord');
    const mo = uniqueId('mo');
    await fund(mo, 500);
    const withRef = await postJournal(tdb.db, {
      idempotencyKey: uniqueId('ref-'),
      reason: 'charge',
      refType: 'order',
      refId: orderId,
      lines: transfer(accounts.userWallet(mo), accounts.orderEscrow(orderId), 200),
    });
    await tdb.db.transaction(async (trx) => {
      await trx.raw('SET LOCAL enable_seqscan = off');
      const plan = await trx.raw(`EXPLAIN SELECT id FROM journal WHERE ref_type = 'order' AND ref_id = ?`, [orderId]);
      expect(plan.rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n')).toMatch(/journal_ref_idx/);
      expect(await trx('journal').where({ ref_type: 'order', ref_id: orderId }).pluck('id')).toEqual([withRef.journalId]);
    });
    const { rows } = await tdb.db.raw(`SELECT pg_get_indexdef('journal_ref_idx'::regclass) AS def`);
    expect(rows[0].def).toMatch(/WHERE \(ref_id IS NOT NULL\)/);
  });
});

describe('reversals', () => {
  test('undo a journal once, pointing at the original', async () => {
    const fay = uniqueId('fay');
    await fund(fay, 1_000);
    const charge = await postJournal(tdb.db, {
      idempotencyKey: uniqueId('c-'),
      reason: 'fee',
      lines: transfer(accounts.userWallet(fay), accounts.platformRevenue, 400),
    });
    const rev = await reverseJournal(tdb.db, charge.journalId, { idempotencyKey: `${charge.journalId}:reversal`, reason: 'fee_reversal' });
    expect(rev.applied).toBe(true);
    expect((await tdb.db('journal').where({ id: rev.journalId }).first()).reverses_journal_id).toBe(charge.journalId);
    expect((await getBalance(tdb.db, accounts.userWallet(fay))).balance).toBe(1_000);
    // the same reversal again is a no-op; a second reversal under another key is refused
    expect(
      (await reverseJournal(tdb.db, charge.journalId, { idempotencyKey: `${charge.journalId}:reversal`, reason: 'fee_reversal' })).applied,
    ).toBe(false);
    await expect(reverseJournal(tdb.db, charge.journalId, { idempotencyKey: uniqueId('other-'), reason: 'again' })).rejects.toThrow();
    expect((await getBalance(tdb.db, accounts.userWallet(fay))).balance).toBe(1_000);
  });
});

describe('holds', () => {
  test('held funds are not available and cannot be overdrawn; capture and release settle them', async () => {
    const gil = uniqueId('gil');
    await fund(gil, 1_000);
    const wallet = accounts.userWallet(gil);
    const { holdId } = await tdb.db.transaction((trx) => placeHold(trx, { account: wallet, amount: 700, idempotencyKey: `${gil}-hold` }));
    expect(await getBalance(tdb.db, wallet)).toMatchObject({ balance: 1_000, held: 700, available: 300 });

    await expect(
      postJournal(tdb.db, { idempotencyKey: uniqueId('spend-'), reason: 'spend', lines: transfer(wallet, accounts.platformRevenue, 301) }),
    ).rejects.toBeInstanceOf(InsufficientFundsError);
    await expect(
      tdb.db.transaction((trx) => placeHold(trx, { account: wallet, amount: 301, idempotencyKey: `${gil}-hold2` })),
    ).rejects.toBeInstanceOf(InsufficientFundsError);

    const escrow = accounts.marketEscrow(uniqueId('m'));
    const entry = { idempotencyKey: `${gil}-capture`, reason: 'trade', lines: transfer(wallet, escrow, 450) };
    await tdb.db.transaction((trx) => captureHold(trx, holdId, entry));
    await tdb.db.transaction((trx) => captureHold(trx, holdId, entry)); // repeated: no effect
    expect(await getBalance(tdb.db, wallet)).toMatchObject({ balance: 550, held: 250, available: 300 });

    expect(await tdb.db.transaction((trx) => releaseHold(trx, holdId))).toBe(250);
    expect(await tdb.db.transaction((trx) => releaseHold(trx, holdId))).toBe(0);
    expect(await getBalance(tdb.db, wallet)).toMatchObject({ balance: 550, held: 0, available: 550 });
  });

  test('placing the same hold twice holds once', async () => {
    const hal = uniqueId('hal');
    await fund(hal, 1_000);
    const req = { account: accounts.userWallet(hal), amount: 600, idempotencyKey: `${hal}-h` };
    const a = await tdb.db.transaction((trx) => placeHold(trx, req));
    const b = await tdb.db.transaction((trx) => placeHold(trx, req));
    expect(b).toEqual({ holdId: a.holdId, applied: false });
    expect((await getBalance(tdb.db, req.account)).held).toBe(600);
    await tdb.db.transaction((trx) => releaseHold(trx, a.holdId));
  });
});

describe('batched posting', () => {
  test('many journals in one transaction; keys already applied are skipped', async () => {
    const market = accounts.marketEscrow(uniqueId('mk'));
    const winners = Array.from({ length: 200 }, () => uniqueId('w'));
    await postJournal(tdb.db, {
      idempotencyKey: uniqueId('seed-'),
      reason: 'seed',
      lines: transfer(accounts.externalPsp, market, 200 * 1000),
    });
    const entries = winners.map((w) => ({
      idempotencyKey: `${market}:${w}`,
      reason: 'settlement',
      lines: transfer(market, accounts.userWallet(w), 1000),
    }));
    const first = await tdb.db.transaction((trx) => postJournals(trx, entries.slice(0, 120)));
    const second = await tdb.db.transaction((trx) => postJournals(trx, entries));
    expect(first).toEqual({ applied: 120, skipped: 0 });
    expect(second).toEqual({ applied: 80, skipped: 120 });
    expect((await getBalance(tdb.db, market)).balance).toBe(0);
  });

  test('a batch that would overdraw is refused as a whole', async () => {
    const ivy = uniqueId('ivy');
    await fund(ivy, 100);
    const entries = [60, 60].map((amount, i) => ({
      idempotencyKey: `${ivy}-b${i}`,
      reason: 'spend',
      lines: transfer(accounts.userWallet(ivy), accounts.platformRevenue, amount),
    }));
    await expect(tdb.db.transaction((trx) => postJournals(trx, entries))).rejects.toBeInstanceOf(InsufficientFundsError);
    expect(
      await tdb.db('journal').whereIn(
        'idempotency_key',
        entries.map((e) => e.idempotencyKey),
      ),
    ).toEqual([]);
  });
});

describe('reconcile and snapshots', () => {
  test('reconcile reports a balance that drifted from its lines', async () => {
    const jo = uniqueId('jo');
    await fund(jo, 900);
    expect(await reconcile(tdb.db)).toEqual([]);
    await tdb
      .db('account_balances')
      .where({ account_id: accounts.userWallet(jo) })
      .update({ balance: 901 });
    expect(await reconcile(tdb.db)).toEqual([{ account: accounts.userWallet(jo), shard: 0, kind: 'balance', stored: 901, derived: 900 }]);
    await tdb
      .db('account_balances')
      .where({ account_id: accounts.userWallet(jo) })
      .update({ balance: 900 });
  });

  test('a daily snapshot answers "balance on date D" and is idempotent', async () => {
    const kim = uniqueId('kim');
    await fund(kim, 4_200);
    const today = new Date().toLocaleDateString('en-CA', { timeZone: 'Asia/Kolkata' });
    expect(await snapshotBalances(tdb.db, today)).toBeGreaterThan(0);
    expect(await snapshotBalances(tdb.db, today)).toBe(0);
    expect(await balanceOn(tdb.db, accounts.userWallet(kim), today)).toBe(4_200);
  });
});

describe('model-based property test', () => {
  type Op =
    | { kind: 'fund'; user: number; amount: number }
    | { kind: 'transfer'; from: number; to: number; amount: number }
    | { kind: 'hold'; user: number; amount: number }
    | { kind: 'releaseHold'; index: number }
    | { kind: 'reverse'; index: number }
    | { kind: 'replay'; index: number };

  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('fund' as const), user: fc.nat(3), amount: fc.integer({ min: 1, max: 5_000 }) }),
    fc.record({ kind: fc.constant('transfer' as const), from: fc.nat(3), to: fc.nat(3), amount: fc.integer({ min: 1, max: 5_000 }) }),
    fc.record({ kind: fc.constant('hold' as const), user: fc.nat(3), amount: fc.integer({ min: 1, max: 3_000 }) }),
    fc.record({ kind: fc.constant('releaseHold' as const), index: fc.nat(20) }),
    fc.record({ kind: fc.constant('reverse' as const), index: fc.nat(20) }),
    fc.record({ kind: fc.constant('replay' as const), index: fc.nat(20) }),
  );

  test('random transfers, holds, reversals and replays match a simple in-memory model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const run = uniqueId('p');
        const users = [0, 1, 2, 3].map((i) => accounts.userWallet(`${run}u${i}`));
        const balance = new Map<string, number>(users.map((u) => [u, 0]));
        const held = new Map<string, number>(users.map((u) => [u, 0]));
        const posted: Array<{ journalId: number; key: string; lines: ReturnType<typeof transfer>; reversed: boolean }> = [];
        const holds: Array<{ holdId: number; account: string; amount: number; open: boolean }> = [];
        const available = (u: string) => balance.get(u)! - held.get(u)!;
        const apply = (lines: ReturnType<typeof transfer>) =>
          lines.forEach((l) => balance.has(l.account) && balance.set(l.account, balance.get(l.account)! + l.amount));

        for (const [i, o] of ops.entries()) {
          const key = `${run}-${i}`;
          if (o.kind === 'fund' || o.kind === 'transfer') {
            const from = o.kind === 'fund' ? accounts.externalPsp : users[o.from];
            const to = o.kind === 'fund' ? users[o.user] : users[o.to];
            if (from === to) continue;
            const lines = transfer(from, to, o.amount);
            const allowed = !balance.has(from) || available(from) >= o.amount;
            const attempt = postJournal(tdb.db, { idempotencyKey: key, reason: o.kind, lines });
            if (allowed) {
              const r = await attempt;
              posted.push({ journalId: r.journalId, key, lines, reversed: false });
              apply(lines);
            } else {
              await expect(attempt).rejects.toBeInstanceOf(InsufficientFundsError);
            }
          } else if (o.kind === 'hold') {
            const account = users[o.user];
            const attempt = tdb.db.transaction((trx) => placeHold(trx, { account, amount: o.amount, idempotencyKey: key }));
            if (available(account) >= o.amount && (await tdb.db('accounts').where({ id: account }).first())) {
              const { holdId } = await attempt;
              holds.push({ holdId, account, amount: o.amount, open: true });
              held.set(account, held.get(account)! + o.amount);
            } else {
              await expect(attempt).rejects.toBeInstanceOf(InsufficientFundsError);
            }
          } else if (o.kind === 'releaseHold') {
            const h = holds[o.index % Math.max(holds.length, 1)];
            if (!h) continue;
            const released = await tdb.db.transaction((trx) => releaseHold(trx, h.holdId));
            expect(released).toBe(h.open ? h.amount : 0);
            if (h.open) held.set(h.account, held.get(h.account)! - h.amount);
            h.open = false;
          } else if (o.kind === 'reverse') {
            const p = posted[o.index % Math.max(posted.length, 1)];
            if (!p || p.reversed) continue;
            const undo = p.lines.map((l) => ({ account: l.account, amount: -l.amount }));
            const allowed = undo.every((l) => l.amount >= 0 || !balance.has(l.account) || available(l.account) >= -l.amount);
            const attempt = reverseJournal(tdb.db, p.journalId, { idempotencyKey: `${p.key}:rev`, reason: 'reversal' });
            if (allowed) {
              await attempt;
              p.reversed = true;
              apply(undo);
            } else {
              await expect(attempt).rejects.toBeInstanceOf(InsufficientFundsError);
            }
          } else {
            const p = posted[o.index % Math.max(posted.length, 1)];
            if (!p) continue;
            expect((await postJournal(tdb.db, { idempotencyKey: p.key, reason: 'replay', lines: p.lines })).applied).toBe(false);
          }
        }
        for (const u of users) {
          expect(await getBalance(tdb.db, u)).toMatchObject({ balance: balance.get(u), held: held.get(u) });
        }
      }),
      { numRuns: 40 },
    );
  });
});
