import { Parser } from '@asyncapi/parser';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import WebSocket from 'ws';
import { signToken } from '../../api/auth';
import { RedisPubSub } from '../../infra/pubsub';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { testEnv } from '../support/env';
import { createMarket, expectEscrowMatchesPairs, fundWallet, placeOrder, waitForEngineIdle, waitForStatus } from '../support/markets';
import { startTestWorker, uniqueId, type TestWorker } from '../support/temporal';
import { answer } from '../support/typed-client';

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;
let doc: any;
const buses: RedisPubSub[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase();
  // Engine and API each on their own Redis connection, as in production: frames cross Redis.
  for (let i = 0; i < 2; i++) buses.push(new RedisPubSub(testEnv.redisUrl));
  worker = await startTestWorker({ db: tdb.db, pubsub: buses[0] });
  api = await startTestApi({ db: tdb.db, temporal: worker.client, taskQueue: worker.taskQueue, pubsub: buses[1] });
  // Raw: the AsyncAPI document is not one of the OpenAPI document's paths.
  doc = (await api.request('GET', '/asyncapi.json')).body;
});
afterAll(async () => {
  await api?.close();
  await worker?.shutdown();
  for (const b of buses) await b.close();
  await tdb?.drop();
});

/** A socket that keeps every frame exactly as the server sent it. */
class RawSocket {
  readonly frames: any[] = [];
  private waiters: Array<{ pred: (f: any) => boolean; resolve: (f: any) => void }> = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => !(w.pred(frame) && (w.resolve(frame), true)));
    });
  }

  static async open(token?: string): Promise<RawSocket> {
    const ws = new WebSocket(`${api.url.replace(/^http/, 'ws')}/v1/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`);
    const socket = new RawSocket(ws); // listening before the handshake ends: the first frame can come with it
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return socket;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  waitFor(pred: (f: any) => boolean, timeoutMs = 15_000): Promise<any> {
    const seen = this.frames.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no frame matching ${pred} in ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`)),
        timeoutMs,
      );
      this.waiters.push({ pred, resolve: (f) => (clearTimeout(timer), resolve(f)) });
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** The document's messages, split by who sends them, each with a validator of its payload. */
function messagesOf(document: any) {
  const ajv = addFormats(new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }));
  const byRef = (ref: { $ref: string }) => ref.$ref.split('/').pop()!;
  const validators: Record<string, ValidateFunction> = {};
  for (const [name, message] of Object.entries<any>(document.channels.ws.messages)) validators[name] = ajv.compile(message.payload);
  const fromServer = new Set<string>();
  const fromClient = new Set<string>();
  for (const op of Object.values<any>(document.operations)) {
    for (const m of op.messages) (op.action === 'send' ? fromServer : fromClient).add(byRef(m));
    for (const m of op.reply?.messages ?? []) fromServer.add(byRef(m));
  }
  /** The names of the messages a frame is valid as (exactly one, for a frame the document describes). */
  const matches = (frame: unknown, side: Set<string>) => [...side].filter((name) => validators[name](frame));
  const explain = (frame: unknown, name: string) => (validators[name](frame) ? 'valid' : ajv.errorsText(validators[name].errors));
  return { fromServer, fromClient, matches, explain };
}

test('/asyncapi.json is a valid AsyncAPI 3.0 document', async () => {
  const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
  // Severity 0 is an error, 1 a warning; hints (2, 3) such as "a newer AsyncAPI version exists" are fine.
  expect(diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.code} ${d.message} at ${d.path.join('.')}`)).toEqual([]);
  expect(document?.version()).toBe('3.0.0');
  expect(document?.channels().get('ws')?.address()).toBe('/v1/ws');
  // The examples in the document are themselves valid frames.
  const { fromServer, fromClient, matches } = messagesOf(doc);
  for (const [name, message] of Object.entries<any>(doc.channels.ws.messages)) {
    for (const example of message.examples)
      expect([name, matches(example.payload, fromServer.has(name) ? fromServer : fromClient)]).toEqual([name, [name]]);
  }
});

test('every frame of a real trading session is one of the document’s messages, with gap-free seq', async () => {
  const { fromServer, fromClient, matches, explain } = messagesOf(doc);
  const sent: unknown[] = [];
  const send = (socket: RawSocket, frame: unknown) => {
    sent.push(frame);
    socket.send(frame);
  };

  const admin = api.token(uniqueId('admin'), ['admin']);
  const marketId = await createMarket(api, admin, { opensInMs: 200 });
  await waitForStatus(tdb.db, marketId, 'open');
  const [maker, taker] = [uniqueId('maker'), uniqueId('taker')];
  await fundWallet(tdb.db, maker, 50_000);
  await fundWallet(tdb.db, taker, 50_000);

  // A watcher without a token; refused frames are answered, and the socket stays usable.
  const watcher = await RawSocket.open();
  watcher.send('this is not JSON');
  await watcher.waitFor((f) => f.code === 'bad_message');
  watcher.send({ op: 'subscribe', market: 'mk_abc\u0007defgh' });
  await watcher.waitFor((f) => f.code === 'invalid_text');
  send(watcher, { op: 'subscribe', market: 'mk_doesnotexist1' });
  await watcher.waitFor((f) => f.code === 'market_not_found');
  send(watcher, { op: 'auth', token: 'not-a-valid-token' });
  await watcher.waitFor(
    (f) => f.type === 'error' && f.code !== 'market_not_found' && f.code !== 'bad_message' && f.code !== 'invalid_text',
  );
  send(watcher, { op: 'subscribe', market: marketId });
  await watcher.waitFor((f) => f.type === 'snapshot');

  // The taker authenticates on the URL, the maker with the auth op; a third socket's token runs out.
  const takerSocket = await RawSocket.open(api.token(taker));
  await takerSocket.waitFor((f) => f.type === 'authenticated');
  const makerSocket = await RawSocket.open();
  send(makerSocket, { op: 'auth', token: api.token(maker) });
  await makerSocket.waitFor((f) => f.type === 'authenticated');
  const shortLived = await RawSocket.open(signToken(api.secret, { userId: uniqueId('brief'), roles: ['customer'] }, 2));
  await shortLived.waitFor((f) => f.type === 'authenticated');

  // Rest, fill, refuse, cancel: each kind of order event.
  const resting = await placeOrder(api, api.token(maker), marketId, { side: 'YES', action: 'BUY', price: 550, quantity: 5 });
  await makerSocket.waitFor((f) => f.type === 'orders' && f.orders.some((o: any) => o.status === 'open'));
  const filled = await placeOrder(api, api.token(taker), marketId, { side: 'NO', action: 'BUY', price: 450, quantity: 3, seenPrice: 450 });
  await takerSocket.waitFor((f) => f.type === 'orders' && f.fills.some((x: any) => x.orderId === filled.body.orderId));
  await makerSocket.waitFor((f) => f.type === 'orders' && f.fills.some((x: any) => x.role === 'maker'));
  await placeOrder(api, api.token(taker), marketId, { side: 'NO', action: 'BUY', price: 450, quantity: 10, tif: 'FOK' });
  await takerSocket.waitFor((f) => f.type === 'orders' && f.orders.some((o: any) => o.status === 'rejected'));
  const cancel = await answer(
    api.client(api.token(maker)).POST('/v1/markets/{marketId}/orders/{orderId}/cancel', {
      params: { path: { marketId, orderId: resting.body.orderId } },
    }),
  );
  expect(cancel.status).toBe(202);
  await makerSocket.waitFor((f) => f.type === 'orders' && f.orders.some((o: any) => o.status === 'cancelled'));
  await watcher.waitFor((f) => f.type === 'update' && f.view.bids.length === 0 && f.view.volume === 3);
  await shortLived.waitFor((f) => f.code === 'token_expired', 10_000);
  send(watcher, { op: 'unsubscribe', market: marketId });

  // Every frame the server sent is exactly one message of the document…
  const sockets = { watcher, takerSocket, makerSocket, shortLived };
  for (const [name, socket] of Object.entries(sockets)) {
    for (const frame of socket.frames) {
      const as = matches(frame, fromServer);
      // Explain against the message named by the frame's own `type`, else against all of them.
      const candidates = fromServer.has(frame.type) ? [frame.type] : [...fromServer];
      const why = as.length === 1 ? 'ok' : candidates.map((m) => `${m}: ${explain(frame, m)}`).join('; ');
      expect([name, frame, as.length === 1 ? 'ok' : why]).toEqual([name, frame, 'ok']);
    }
  }
  // …and every well-formed frame we sent is one of its client messages.
  for (const frame of sent) expect([frame, matches(frame, fromClient).length]).toEqual([frame, 1]);

  // Gap-free sequences: per subscription on the market, per connection for your own events.
  const feed = watcher.frames.filter((f) => f.market === marketId && (f.type === 'snapshot' || f.type === 'update'));
  expect(feed.map((f) => f.seq)).toEqual(feed.map((_, i) => i + 1));
  for (const socket of [takerSocket, makerSocket]) {
    const events = socket.frames.filter((f) => f.type === 'orders');
    expect(events.map((f) => f.seq)).toEqual(events.map((_, i) => i + 1));
  }

  // The session reached every kind of server message and the gateway's own error codes.
  const all = Object.values(sockets).flatMap((s) => s.frames);
  expect([...new Set(all.map((f) => f.type))].sort()).toEqual(['authenticated', 'error', 'orders', 'snapshot', 'update']);
  expect(new Set(all.filter((f) => f.type === 'error').map((f) => f.code))).toEqual(
    new Set(['bad_message', 'invalid_text', 'market_not_found', 'invalid_token', 'token_expired']),
  );

  for (const socket of Object.values(sockets)) socket.close();
  await waitForEngineIdle(tdb.db, marketId);
  await expectEscrowMatchesPairs(tdb.db, marketId);
  await expectLedgerInvariants(tdb.db);
});
