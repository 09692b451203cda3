import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import { z } from 'zod';
import { declaredRoutes, documentsOnlyRouter } from '../../api/api-documents';
import { createApp } from '../../api/app';
import { openApiDocument } from '../../api/openapi';
import { loadConfig } from '../../app/config';
import { signWebhook } from '../../infra/fake-payment-provider';
import { InMemoryPubSub } from '../../infra/pubsub';
import { startTestApi, type TestApi, type TestResponse } from '../support/api';
import { contractChecker } from '../support/contract';
import { expectLedgerInvariants, type TestDatabase } from '../support/db';
import { fundWallet, waitForStatus } from '../support/markets';
import { startTestSystem, stopTestSystem } from '../support/system';
import { eventually, testLogger, uniqueId, type TestWorker } from '../support/temporal';

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;
let doc: any;

beforeAll(async () => {
  ({ tdb, worker, api } = await startTestSystem());
  doc = (await api.request('GET', '/openapi.json')).body;
});
afterAll(stopTestSystem);

/** Served by the app but not API operations: the documents themselves and Prometheus text. */
const NOT_OPERATIONS = new Set(['get /openapi.json', 'get /asyncapi.json', 'get /docs', 'get /docs/redoc.standalone.js', 'get /metrics']);
const toTemplate = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Every (method, path) the Express app answers, from its router stack (routers are mounted at the root). */
function appRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: any[]) => {
    for (const layer of stack) {
      if (layer.route) for (const method of Object.keys(layer.route.methods)) out.push(`${method} ${layer.route.path}`);
      else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as any).router.stack);
  return out;
}

describe('every route is in the contract', () => {
  test('each route the app registers is an operation of /openapi.json, and each operation is a route', () => {
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', TEMPORAL_TASK_QUEUE: worker.taskQueue });
    const app = createApp({ config, db: tdb.db, temporal: worker.client, pubsub: new InMemoryPubSub(), logger: testLogger });
    const routes = appRoutes(app).filter((r) => !NOT_OPERATIONS.has(r));
    expect(routes.length).toBeGreaterThan(40);
    const documented = Object.entries<any>(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    const asTemplates = routes.map((r) => {
      const [method, path] = r.split(' ');
      return `${method} ${toTemplate(path)}`;
    });
    expect(asTemplates.filter((r) => !documented.includes(r))).toEqual([]);
    expect(documented.filter((r) => !asTemplates.includes(r))).toEqual([]);
  });

  test('each operation documents exactly the statuses its declaration can answer with', () => {
    const operations = declaredRoutes(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' })).operations;
    for (const { method, path, declaration: d } of operations) {
      const op = doc.paths[toTemplate(path)][method];
      const where = `${method} ${path}`;
      // The rules, restated from how api/app.ts and api/router.ts handle a request.
      // 503: a service the request needs is away for a moment (app/unavailable.ts), or the outside
      // identity provider that verifies a bearer token could not be reached.
      const expected = new Set([400, 429, 500, 503, ...Object.keys(d.responses).map(Number)]);
      if (d.capability !== 'public') [401, 403].forEach((s) => expected.add(s));
      if (d.body) [413, 415].forEach((s) => expected.add(s));
      if (d.idempotent) [409, 422].forEach((s) => expected.add(s));
      // A path id that may not exist, or a query naming whose data to read (someone else's is a 404).
      const ownerQuery = Object.keys((d.query as any)?.shape ?? {}).some((k) => /(user|customer|buyer|seller)Id$/.test(k));
      if (d.params || ownerQuery) expected.add(404);
      const documented = Object.keys(op.responses).map(Number);
      expect([where, documented.filter((s) => !expected.has(s))]).toEqual([where, []]);
      expect([where, [...expected].filter((s) => !documented.includes(s))]).toEqual([where, []]);
      for (const s of documented.filter((s) => s >= 400)) {
        expect([where, s, op.responses[s].content['application/json'].schema]).toEqual([where, s, { $ref: '#/components/schemas/Error' }]);
      }
      const idempotencyHeader = (op.parameters ?? []).find((p: any) => p.in === 'header' && p.name === 'Idempotency-Key');
      // Required where the route needs a key, declared but optional where it only honours one.
      expect([where, idempotencyHeader === undefined, idempotencyHeader?.required ?? false]).toEqual([
        where,
        !d.idempotent,
        d.idempotent === true,
      ]);
      expect([where, op.security]).toEqual([where, d.capability === 'public' ? [] : [{ bearer: [] }]]);
      expect(op.operationId).toMatch(/^[a-z][A-Za-z]+$/);
    }
  });

  test('the error body: details is always an object', () => {
    expect(doc.components.schemas.Error.properties.error).toMatchObject({
      required: ['code', 'message', 'details'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } },
    });
  });
});

/** The schema a `#/components/…` reference names. */
const resolveRef = (document: any, ref: string): any =>
  ref
    .split('/')
    .slice(1)
    .reduce((o: any, k: string) => o?.[k], document);

/** A schema with its references inlined, for ajv (the components are not recursive). */
function inlined(document: any, schema: any): any {
  if (Array.isArray(schema)) return schema.map((s) => inlined(document, s));
  if (!schema || typeof schema !== 'object') return schema;
  if (typeof schema.$ref === 'string') return inlined(document, resolveRef(document, schema.$ref));
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inlined(document, v)]));
}

/**
 * Whether a schema says what is in a body: an object with properties, an array of such, or a
 * union or intersection of them. `{}` (what an answer without a schema is documented with) and a
 * bare `{type: object}` say nothing a generated client could type.
 */
function describesBody(document: any, schema: any): boolean {
  if (!schema || typeof schema !== 'object') return false;
  if (typeof schema.$ref === 'string') return describesBody(document, resolveRef(document, schema.$ref));
  for (const combined of ['oneOf', 'anyOf', 'allOf'] as const) {
    if (Array.isArray(schema[combined]))
      return schema[combined].length > 0 && schema[combined].every((s: any) => describesBody(document, s));
  }
  if (schema.type === 'array') return describesBody(document, schema.items);
  return schema.type === 'object' && Object.keys(schema.properties ?? {}).length > 0;
}

/** Every success answer with a body (all but a 204) that the document leaves untyped, as `operationId status`. */
function untypedAnswers(document: any): string[] {
  const untyped: string[] = [];
  for (const ops of Object.values<any>(document.paths)) {
    for (const op of Object.values<any>(ops)) {
      for (const [status, response] of Object.entries<any>(op.responses)) {
        if (!/^2\d\d$/.test(status) || status === '204') continue;
        if (!describesBody(document, response.content?.['application/json']?.schema)) untyped.push(`${op.operationId} ${status}`);
      }
    }
  }
  return untyped;
}

describe('every answer is typed', () => {
  test('each success answer with a body (all but a 204) declares the schema of that body', () => {
    const successes = Object.values<any>(doc.paths).flatMap((ops) =>
      Object.values<any>(ops).flatMap((op) => Object.keys(op.responses).filter((s) => /^2\d\d$/.test(s))),
    );
    expect(successes.length).toBeGreaterThan(60);
    expect(untypedAnswers(doc)).toEqual([]);
  });

  test('a route declared without a schema for its answer, or with one that says nothing, is caught', () => {
    const router = documentsOnlyRouter(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }));
    const handler = async () => ({ status: 200, body: {} });
    const common = { tag: 'wallet', capability: 'wallet:read' as const, handler };
    router.route({ ...common, method: 'get', path: '/v1/wallet', summary: 'no schema', responses: { 200: { description: 'x' } } });
    router.route({
      ...common,
      method: 'get',
      path: '/v1/wallet/ledger',
      summary: 'an empty object',
      responses: { 200: { description: 'x', schema: z.object({}) } },
    });
    router.route({
      ...common,
      method: 'get',
      path: '/v1/wallet/topups/:topupId',
      summary: 'typed',
      params: z.strictObject({ topupId: z.string() }),
      responses: { 200: { description: 'x', schema: z.object({ topupId: z.string() }) } },
    });
    expect(untypedAnswers(openApiDocument(router.registry))).toEqual(['getWallet 200', 'listWalletLedger 200']);
  });

  test('every example in the document is accepted by the schema it illustrates', () => {
    const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
    const wrong: string[] = [];
    const check = (where: string, schema: unknown, example: unknown) => {
      const validate = ajv.compile(inlined(doc, schema));
      if (!validate(example)) wrong.push(`${where}: ${ajv.errorsText(validate.errors)}`);
    };
    const components = Object.entries<any>(doc.components.schemas).filter(([, schema]) => schema.example !== undefined);
    expect(components.length).toBeGreaterThan(40);
    for (const [name, schema] of components) check(`#/components/schemas/${name}`, schema, schema.example);
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        for (const [status, response] of Object.entries<any>(op.responses)) {
          const content = response.content?.['application/json'];
          if (content?.example !== undefined) check(`${method} ${path} ${status}`, content.schema, content.example);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  test('every typed success answer has an example: on its component, or beside it', () => {
    const missing: string[] = [];
    for (const ops of Object.values<any>(doc.paths)) {
      for (const op of Object.values<any>(ops)) {
        for (const [status, response] of Object.entries<any>(op.responses)) {
          if (!/^2\d\d$/.test(status) || status === '204') continue;
          const content = response.content?.['application/json'];
          const schema = content?.schema?.$ref ? resolveRef(doc, content.schema.$ref) : content?.schema;
          if (content?.example === undefined && schema?.example === undefined) missing.push(`${op.operationId} ${status}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('the documents are served', () => {
  test('/docs renders /openapi.json with Redoc served from node_modules, loading nothing from elsewhere', async () => {
    const page = await fetch(`${api.url}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<redoc spec-url="/openapi.json"');
    expect(html).toContain('<script src="/docs/redoc.standalone.js">');
    expect(html).not.toMatch(/https?:\/\//);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'; script-src 'self'");
    const bundle = await fetch(`${api.url}/docs/redoc.standalone.js`);
    expect([bundle.status, bundle.headers.get('content-type')]).toEqual([200, expect.stringMatching(/javascript/)]);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(500_000);
  });

  test('/openapi.json is OpenAPI 3.1 with a server, a licence, a contact and a top-level security requirement', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(doc.info.license.name).toBeTruthy();
    expect(doc.info.contact.name).toBeTruthy();
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.tags.every((t: { description?: string }) => t.description)).toBe(true);
  });
});

describe('what the API answers matches what the contract says', () => {
  const seen: string[] = [];
  let contract: ReturnType<typeof contractChecker> | undefined;

  /** Sends a request and holds its answer to the contract: a documented status, a body its schema accepts. */
  async function call(
    target: TestApi,
    method: string,
    path: string,
    options: Parameters<TestApi['request']>[2] = {},
  ): Promise<TestResponse> {
    // target.request already refuses an answer the contract does not describe (test/support/contract.ts).
    const res = await target.request(method, path, options);
    contract ??= contractChecker(doc);
    const found = contract.operationFor(method, path);
    expect([method, path, found ? 'an operation' : 'none']).toEqual([method, path, 'an operation']);
    seen.push(`${found!.op.operationId} ${res.status}`);
    return res;
  }

  test('wallet, top-ups and their errors', async () => {
    const user = uniqueId('contract');
    const token = api.token(user);
    await call(api, 'GET', '/healthz');
    await call(api, 'GET', '/readyz');
    await call(api, 'GET', '/v1/wallet', { token });
    await call(api, 'GET', '/v1/wallet');
    await call(api, 'GET', '/v1/wallet?userId=someone-else', { token });
    await call(api, 'GET', '/v1/wallet/ledger?limit=abc', { token });

    const key = uniqueId('key-');
    const topup = await call(api, 'POST', '/v1/wallet/topups', {
      token,
      idempotencyKey: key,
      body: { amount: 5_000, paymentMethod: 'pm_ok' },
    });
    expect(topup.status).toBe(202);
    expect(
      (await call(api, 'POST', '/v1/wallet/topups', { token, idempotencyKey: key, body: { amount: 6_000, paymentMethod: 'pm_ok' } }))
        .status,
    ).toBe(422);
    expect((await call(api, 'POST', '/v1/wallet/topups', { token, body: { amount: 5_000, paymentMethod: 'pm_ok' } })).status).toBe(400);
    const plain = { token, idempotencyKey: uniqueId('key-'), rawBody: 'amount=5000', headers: { 'content-type': 'text/plain' } };
    expect((await call(api, 'POST', '/v1/wallet/topups', plain)).status).toBe(415);
    const huge = {
      token,
      idempotencyKey: uniqueId('key-'),
      rawBody: JSON.stringify({ amount: 5_000, paymentMethod: 'pm_ok', pad: 'x'.repeat(200_000) }),
    };
    expect((await call(api, 'POST', '/v1/wallet/topups', huge)).status).toBe(413);

    await eventually(
      async () => (await api.request('GET', `/v1/wallet/topups/${topup.body.topupId}`, { token })).body.status === 'succeeded',
    );
    expect((await call(api, 'GET', `/v1/wallet/topups/${topup.body.topupId}`, { token })).status).toBe(200);
    expect((await call(api, 'GET', '/v1/wallet/topups/tu_0000000000000000', { token })).status).toBe(404);
    expect((await call(api, 'GET', '/v1/wallet', { token })).body.balance).toBe(5_000);
    await expectLedgerInvariants(tdb.db);
  });

  test('a business error from an idempotent route carries details too', async () => {
    // An unknown seller's payout: the handler's 404 is stored under the key and replayed as stored.
    const seller = uniqueId('nosuchseller');
    const options = { token: api.token(seller, ['seller']), idempotencyKey: uniqueId('key-') };
    const first = await call(api, 'POST', `/v1/sellers/${seller}/payouts`, options);
    expect([first.status, first.body.error.details]).toEqual([404, {}]);
    const replayed = await call(api, 'POST', `/v1/sellers/${seller}/payouts`, options);
    expect([replayed.status, replayed.headers.get('idempotent-replayed')]).toEqual([404, 'true']);
  });

  test('markets, capabilities and the payment webhook', async () => {
    const admin = api.token(uniqueId('admin'), ['admin']);
    const trader = uniqueId('trader');
    const create = () => ({
      question: 'Will the contract hold?',
      opensAt: new Date(Date.now() + 200).toISOString(),
      closesAt: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(
      (await call(api, 'POST', '/v1/markets', { token: api.token(trader), idempotencyKey: uniqueId('key-'), body: create() })).status,
    ).toBe(403);
    const created = await call(api, 'POST', '/v1/markets', { token: admin, idempotencyKey: uniqueId('key-'), body: create() });
    expect(created.status).toBe(201);
    const marketId: string = created.body.marketId;
    await waitForStatus(tdb.db, marketId, 'open');
    await fundWallet(tdb.db, trader, 10_000);
    expect((await call(api, 'GET', '/v1/markets', { token: api.token(trader) })).status).toBe(200);
    expect((await call(api, 'GET', `/v1/markets/${marketId}`, { token: api.token(trader) })).status).toBe(200);
    const order = { clientOrderId: uniqueId('c'), side: 'YES', action: 'BUY', price: 500, quantity: 2 };
    expect((await call(api, 'POST', `/v1/markets/${marketId}/orders`, { token: api.token(trader), body: order })).status).toBe(202);
    expect(
      (await call(api, 'POST', `/v1/markets/${marketId}/orders`, { token: api.token(trader), body: { ...order, price: 510 } })).status,
    ).toBe(400);
    expect((await call(api, 'GET', `/v1/markets/${marketId}/positions`, { token: api.token(trader) })).status).toBe(200);
    expect((await call(api, 'GET', '/v1/ops/alerts', { token: api.token(uniqueId('agent'), ['support']) })).status).toBe(200);

    const event = JSON.stringify({ id: 'evt_contract0001', type: 'payment.succeeded', paymentId: 'pay_not_ours_0001', amount: 100 });
    const hook = await call(api, 'POST', '/v1/webhooks/psp', {
      rawBody: event,
      headers: { 'x-provider-signature': signWebhook(event, 'mandi-dev-webhook-secret') },
    });
    expect(hook.body).toEqual({ received: true, matched: false });
    await expectLedgerInvariants(tdb.db);
  });

  test('the per-user limit on money routes answers a documented 429', async () => {
    const limited = await startTestApi({
      db: tdb.db,
      temporal: worker.client,
      taskQueue: worker.taskQueue,
      env: { RATE_LIMIT_PER_MINUTE: '1' },
    });
    try {
      const token = limited.token(uniqueId('hasty'));
      const body = { amount: 100, paymentMethod: 'pm_declined' };
      expect((await call(limited, 'POST', '/v1/wallet/topups', { token, idempotencyKey: uniqueId('key-'), body })).status).toBe(202);
      const second = await call(limited, 'POST', '/v1/wallet/topups', { token, idempotencyKey: uniqueId('key-'), body });
      expect([second.status, second.body.error.code]).toEqual([429, 'rate_limited']);
    } finally {
      await limited.close();
    }
    await expectLedgerInvariants(tdb.db);
  });

  test('those calls reached a spread of statuses (else the checks above proved little)', () => {
    const statuses = new Set(seen.map((s) => Number(s.split(' ')[1])));
    expect([...statuses]).toEqual(expect.arrayContaining([200, 201, 202, 400, 401, 403, 404, 413, 415, 422, 429]));
  });
});
