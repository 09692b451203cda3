import { accounts } from '../../domain/ledger/accounts';
import { transfer } from '../../domain/ledger/journal';
import { postJournal } from '../../db/ledger';
import { insertMarket, openMarket } from '../../db/market-lifecycle';
import { getBalance } from '../../db/ledger-reports';
import type { Db } from '../../db/knex';
import type { TestApi } from './api';
import { answer, type RequestBody } from './typed-client';
import { eventually, uniqueId } from './temporal';

/** Credits a user's wallet as a completed top-up would. */
export async function fundWallet(db: Db, userId: string, amount: number): Promise<void> {
  await postJournal(db, {
    idempotencyKey: uniqueId('test-fund-'),
    reason: 'topup',
    lines: transfer(accounts.externalPsp, accounts.userWallet(userId), amount),
  });
}

export const wallet = (db: Db, userId: string) => getBalance(db, accounts.userWallet(userId));
export const escrow = async (db: Db, marketId: string) => (await getBalance(db, accounts.marketEscrow(marketId))).balance;

export interface MarketOptions {
  opensInMs?: number;
  closesInMs?: number;
  feeBps?: number;
  disputeWindowSeconds?: number;
  resolutionDeadlineSeconds?: number;
  suspendCancelsOrders?: boolean;
  resumeDelaySeconds?: number;
}

export async function createMarket(api: TestApi, admin: string, o: MarketOptions = {}): Promise<string> {
  const now = Date.now();
  const res = await answer(
    api.client(admin).POST('/v1/markets', {
      params: { header: { 'Idempotency-Key': uniqueId('create-') } },
      body: {
        question: 'Will the next over have a six?',
        opensAt: new Date(now + (o.opensInMs ?? 500)).toISOString(),
        closesAt: new Date(now + (o.closesInMs ?? 60_000)).toISOString(),
        feeBps: o.feeBps ?? 200,
        disputeWindowSeconds: o.disputeWindowSeconds ?? 0,
        resolutionDeadlineSeconds: o.resolutionDeadlineSeconds ?? 3600,
        ...(o.suspendCancelsOrders !== undefined ? { suspendCancelsOrders: o.suspendCancelsOrders } : {}),
        ...(o.resumeDelaySeconds !== undefined ? { resumeDelaySeconds: o.resumeDelaySeconds } : {}),
      },
    }),
  );
  if (res.status !== 201) throw new Error(`create market: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.marketId;
}

export async function waitForStatus(db: Db, marketId: string, status: string, timeoutMs = 30_000): Promise<void> {
  await eventually(async () => (await db('markets').where({ id: marketId }).first('status'))?.status === status, timeoutMs, 50);
}

export interface OrderArgs {
  side: 'YES' | 'NO';
  action: 'BUY' | 'SELL';
  price: number;
  quantity: number;
  tif?: 'GTC' | 'IOC' | 'FOK';
  seenPrice?: number;
  expiresAt?: string;
  postOnly?: boolean;
  clientOrderId?: string;
}

export async function placeOrder(api: TestApi, token: string, marketId: string, o: OrderArgs) {
  return answer(
    api
      .client(token)
      .POST('/v1/markets/{marketId}/orders', { params: { path: { marketId } }, body: { clientOrderId: uniqueId('c'), ...o } }),
  );
}

/** Waits until the engine has consumed every queued command of the market. */
export async function waitForEngineIdle(db: Db, marketId: string, timeoutMs = 30_000): Promise<void> {
  await eventually(
    async () => {
      const [{ count }] = await db('market_orders').where({ market_id: marketId, engine_pending: true }).count();
      return Number(count) === 0;
    },
    timeoutMs,
    50,
  );
}

/** Escrow holds exactly 1000 per open YES/NO pair, and YES outstanding equals NO outstanding. */
export async function expectEscrowMatchesPairs(db: Db, marketId: string): Promise<number> {
  const rows = await db('market_positions')
    .where({ market_id: marketId })
    .groupBy('side')
    .select('side', db.raw('sum(quantity)::bigint AS q'));
  const bySide = Object.fromEntries(rows.map((r: any) => [r.side, r.q]));
  const yes = bySide.YES ?? 0;
  const no = bySide.NO ?? 0;
  expect(yes).toBe(no);
  expect(await escrow(db, marketId)).toBe(1000 * yes);
  return yes;
}

export interface Trader {
  id: string;
  token: string;
}

/** `n` customers, each with a funded wallet and a token. */
export async function traders(db: Db, api: TestApi, n: number, funds = 100_000): Promise<Trader[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const id = uniqueId('u');
      await fundWallet(db, id, funds);
      return { id, token: api.token(id) };
    }),
  );
}

/** Places an order and fails the test unless it was accepted; waits until the engine has seen it. */
export async function placeAccepted(api: TestApi, db: Db, token: string, marketId: string, o: OrderArgs): Promise<string> {
  const res = await placeOrder(api, token, marketId, o);
  if (res.status !== 202) throw new Error(`order: ${res.status} ${JSON.stringify(res.body)}`);
  await waitForEngineIdle(db, marketId);
  return res.body.orderId;
}

type LifecycleBodies = {
  close: RequestBody<'closeMarket'>;
  resolve: RequestBody<'resolveMarket'>;
  void: RequestBody<'voidMarket'>;
  suspend: RequestBody<'suspendMarket'>;
  resume: RequestBody<'resumeMarket'>;
};

/** POST to a market's lifecycle route (close, resolve, void) as the given admin. */
export async function lifecycle<A extends keyof LifecycleBodies>(
  api: TestApi,
  admin: string,
  marketId: string,
  action: A,
  body?: LifecycleBodies[A],
) {
  const mandi = api.client(admin);
  const params = { path: { marketId }, header: { 'Idempotency-Key': uniqueId(`${action}-`) } };
  if (action === 'close')
    return answer(mandi.POST('/v1/markets/{marketId}/close', { params, body: (body ?? {}) as LifecycleBodies['close'] }));
  if (action === 'resolve')
    return answer(mandi.POST('/v1/markets/{marketId}/resolve', { params, body: body as LifecycleBodies['resolve'] }));
  if (action === 'suspend')
    return answer(mandi.POST('/v1/markets/{marketId}/suspend', { params, body: (body ?? {}) as LifecycleBodies['suspend'] }));
  if (action === 'resume')
    return answer(mandi.POST('/v1/markets/{marketId}/resume', { params, body: (body ?? {}) as LifecycleBodies['resume'] }));
  return answer(mandi.POST('/v1/markets/{marketId}/void', { params, body: body as LifecycleBodies['void'] }));
}

/** A user's wallet holds nothing for orders any more (every hold released or spent). */
export async function expectNothingHeld(db: Db, userId: string): Promise<void> {
  await eventually(async () => (await wallet(db, userId)).held === 0, 10_000, 50);
  const [{ open }] = await db('holds')
    .where({ account_id: accounts.userWallet(userId), status: 'open' })
    .count({ open: '*' });
  expect(Number(open)).toBe(0);
}

export const orderRow = (db: Db, orderId: string) => db('market_orders').where({ id: orderId }).first();

/** A market row trading for the next hour (no fee, no dispute window), written straight to Postgres for db-level tests. */
export async function insertTradingMarket(db: Db, question: string, o: { open?: boolean } = {}): Promise<string> {
  const id = `mk_${uniqueId('')
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(-20)
    .padStart(10, '0')}`;
  await insertMarket(db, {
    id,
    question,
    opensAt: new Date(Date.now() - 1_000),
    closesAt: new Date(Date.now() + 3_600_000),
    feeBps: 0,
    disputeWindowSeconds: 0,
    resolutionDeadlineSeconds: 3600,
    createdBy: 'test',
  });
  if (o.open) await openMarket(db, id);
  return id;
}
