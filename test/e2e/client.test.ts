import { createMandiClient, idempotencyKey, type MandiClient, type MandiError } from '../../clients/ts';
import { expectLedgerInvariants, type TestDatabase } from '../support/db';
import type { TestApi } from '../support/api';
import { startTestSystem, stopTestSystem } from '../support/system';
import { eventually, uniqueId } from '../support/temporal';

let tdb: TestDatabase;
let api: TestApi;

beforeAll(async () => ({ tdb, api } = await startTestSystem()));
afterAll(stopTestSystem);

const clientFor = (userId: string): MandiClient => createMandiClient({ baseUrl: api.url, token: api.token(userId) });

test('the generated client tops up a wallet and reads it back, typed end to end', async () => {
  const mandi = clientFor(uniqueId('client'));
  const key = idempotencyKey();
  const placed = await mandi.POST('/v1/wallet/topups', {
    params: { header: { 'Idempotency-Key': key } },
    body: { amount: 25_000, paymentMethod: 'pm_ok' },
  });
  expect(placed.response.status).toBe(202);
  const topupId = placed.data!.topupId;

  const done = await eventually(async () => {
    const { data } = await mandi.GET('/v1/wallet/topups/{topupId}', { params: { path: { topupId } } });
    return data?.status === 'succeeded' ? data : null;
  });
  expect(done).toMatchObject({ topupId, amount: 25_000, paymentMethod: 'pm_ok', failureCode: null });

  const { data: wallet } = await mandi.GET('/v1/wallet');
  expect(wallet).toMatchObject({ currency: 'INR', balance: 25_000, held: 0, available: 25_000 });

  // A repeat with the same key is the stored answer, marked as such.
  const again = await mandi.POST('/v1/wallet/topups', {
    params: { header: { 'Idempotency-Key': key } },
    body: { amount: 25_000, paymentMethod: 'pm_ok' },
  });
  expect([again.data?.topupId, again.response.headers.get('idempotent-replayed')]).toEqual([topupId, 'true']);
  expect((await mandi.GET('/v1/wallet')).data?.balance).toBe(25_000);
  await expectLedgerInvariants(tdb.db);
});

test('errors come back as the documented error body, details always an object', async () => {
  const mandi = clientFor(uniqueId('client'));
  const missing = await mandi.GET('/v1/wallet/topups/{topupId}', { params: { path: { topupId: 'tu_0000000000000000' } } });
  expect(missing.response.status).toBe(404);
  const error: MandiError | undefined = missing.error;
  expect(error).toEqual({ error: { code: 'not_found', message: expect.any(String), details: {} } });

  const invalid = await mandi.POST('/v1/wallet/topups', {
    params: { header: { 'Idempotency-Key': idempotencyKey() } },
    body: { amount: 1, paymentMethod: 'pm_ok' },
  });
  expect([invalid.response.status, invalid.error?.error.code]).toEqual([400, 'validation_failed']);
  expect(invalid.error?.error.details).toEqual({ issues: [expect.objectContaining({ path: 'amount' })] });

  const anonymous = await createMandiClient({ baseUrl: api.url }).GET('/v1/wallet');
  expect([anonymous.response.status, anonymous.error?.error.code]).toEqual([401, 'unauthenticated']);
});

/** Never called: `tsc --noEmit` (npm test) proves the generated types refuse what the API would. */
export function typeChecks(mandi: MandiClient) {
  void mandi.POST('/v1/wallet/topups', {
    params: { header: { 'Idempotency-Key': 'k-12345678' } },
    // @ts-expect-error amount is integer paise, not a string
    body: { amount: '100', paymentMethod: 'pm_ok' },
  });
  // @ts-expect-error the Idempotency-Key header is required
  void mandi.POST('/v1/wallet/topups', { body: { amount: 100, paymentMethod: 'pm_ok' } });
  // @ts-expect-error no such route
  void mandi.GET('/v1/wallets');
}
