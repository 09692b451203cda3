import { documentOptions } from '../../api/openapi';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { buildOpenApiDocument, declaredRoutes, documentsOnlyRouter } from '../../api/api-documents';
import { asyncApiDocument } from '../../api/asyncapi/document';
import { EXAMPLES_AS_OF, OPERATION_EXAMPLES } from '../../api/openapi-examples';
import { TAG_DESCRIPTIONS } from '../../api/openapi';
import { OPERATION_IDS, operationIdFor, operationKey } from '../../api/operation-ids';
import type { ApiRouter } from '../../api/router';
import { loadConfig } from '../../app/config';

const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
/** Answered outside api.route (api/health.ts) and documented by api/openapi.ts. */
const OUTSIDE_ROUTER = ['get /healthz', 'get /readyz'];

/**
 * Every route declared in api/routes/*.ts, whether api/routes/index.ts registers its module yet or
 * not: a route gets its operationId (and examples) before it is wired in, and none is missed.
 */
function everyDeclaredRoute(): ApiRouter {
  const router = documentsOnlyRouter(config);
  const dir = path.resolve(__dirname, '../../api/routes');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'index.ts')) {
    for (const [name, register] of Object.entries<unknown>(require(path.join(dir, file)))) {
      if (/^register\w+Routes$/.test(name) && typeof register === 'function') register(router);
    }
  }
  return router;
}
const api = everyDeclaredRoute();

test('every route declared has an operationId (else registering it would have thrown)', () => {
  expect(api.operations.length).toBeGreaterThan(40);
  for (const op of api.operations) expect([op.path, op.operationId]).toEqual([op.path, OPERATION_IDS[operationKey(op.method, op.path)]]);
  // The app registers a subset of them (all, once every module is wired into api/routes/index.ts).
  const declared = new Set(api.operations.map((op) => op.operationId));
  expect(declaredRoutes(config).operations.filter((op) => !declared.has(op.operationId))).toEqual([]);
});

test('a route missing from api/operation-ids.ts stops start-up with a message saying where to add it', () => {
  const fresh = documentsOnlyRouter(config);
  const unnamed = () =>
    fresh.route({
      method: 'get',
      path: '/v1/not-named-anywhere',
      summary: 'x',
      tag: 'wallet',
      capability: 'wallet:read',
      responses: { 200: { description: 'x' } },
      handler: async () => ({ status: 200, body: {} }),
    });
  expect(unnamed).toThrow('No operationId for "get /v1/not-named-anywhere": add it to api/operation-ids.ts');
  expect(() => operationIdFor('delete', '/v1/wallet')).toThrow(/api\/operation-ids\.ts/);
});

test('operationIds are unique camelCase verb + noun, and no entry outlives its route', () => {
  const ids = Object.values(OPERATION_IDS);
  expect(new Set(ids).size).toBe(ids.length);
  for (const id of ids) expect([id, /^[a-z]+(?:[A-Z][a-z]+)+$/.test(id)]).toEqual([id, true]);
  const registered = new Set([...api.operations.map((op) => operationKey(op.method, op.path)), ...OUTSIDE_ROUTER]);
  expect(Object.keys(OPERATION_IDS).filter((key) => !registered.has(key))).toEqual([]);
});

test('every tag is described', () => {
  const tags = new Set(api.operations.map((op) => op.declaration.tag));
  expect([...tags].filter((tag) => !TAG_DESCRIPTIONS[tag])).toEqual([]);
});

describe('examples', () => {
  const byId = new Map(api.operations.map((op) => [op.operationId, op]));
  // Rules that read the clock judge the examples as of the instant they were written for.
  beforeAll(() => {
    jest.useFakeTimers({
      now: new Date(EXAMPLES_AS_OF),
      doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask'],
    });
  });
  afterAll(() => jest.useRealTimers());

  test('each is for an operation that exists', () => {
    expect(Object.keys(OPERATION_EXAMPLES).filter((id) => !byId.has(id))).toEqual([]);
  });

  test('every operation that takes a body has a request example, and the route accepts it', () => {
    for (const op of api.operations) {
      const body = op.declaration.body;
      if (!body) continue;
      const example = OPERATION_EXAMPLES[op.operationId]?.request;
      expect([op.operationId, example === undefined ? 'missing: add a request example to api/openapi-examples.ts' : 'present']).toEqual([
        op.operationId,
        'present',
      ]);
      const parsed = body.safeParse(example);
      expect([op.operationId, parsed.success ? 'ok' : z.prettifyError(parsed.error)]).toEqual([op.operationId, 'ok']);
    }
  });

  test('response examples match the schema the route declares for that status', () => {
    for (const [operationId, examples] of Object.entries(OPERATION_EXAMPLES)) {
      for (const [status, example] of Object.entries(examples.responses ?? {})) {
        const schema = byId.get(operationId)?.declaration.responses[Number(status)]?.schema;
        expect([operationId, status, schema ? 'declared' : 'no schema']).toEqual([operationId, status, 'declared']);
        const parsed = schema!.safeParse(example);
        expect([operationId, status, parsed.success ? 'ok' : z.prettifyError(parsed.error)]).toEqual([operationId, status, 'ok']);
      }
    }
  });
});

test('both documents point at PUBLIC_URL when it is set, and at their own origin when not', () => {
  const withUrl = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', PUBLIC_URL: 'https://api.example.in/' });
  expect(buildOpenApiDocument(withUrl).servers).toEqual([expect.objectContaining({ url: 'https://api.example.in' })]);
  expect(buildOpenApiDocument(config).servers).toEqual([expect.objectContaining({ url: '/' })]);
  expect(Object.values(asyncApiDocument({ publicUrl: withUrl.PUBLIC_URL, port: 3000 }).servers)).toEqual([
    expect.objectContaining({ host: 'api.example.in', protocol: 'wss' }),
  ]);
  expect(Object.values(asyncApiDocument({ port: 3000 }).servers)).toEqual([
    expect.objectContaining({ host: 'localhost:3000', protocol: 'ws' }),
  ]);
});

test("both documents name the deployment's API contact from its configuration", () => {
  const configured = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PUBLIC_URL: 'https://api.example.in',
    API_CONTACT_EMAIL: 'api@example.in',
  });
  const contact = { name: 'API support', email: 'api@example.in', url: 'https://api.example.in/docs' };
  expect(buildOpenApiDocument(configured).info.contact).toEqual(contact);
  expect(asyncApiDocument({ ...documentOptions(configured), port: 3000 }).info.contact).toEqual(contact);
  // Without either, the contact is a name only: nothing made up.
  expect(buildOpenApiDocument(config).info.contact).toEqual({ name: 'API support' });
  expect(() => loadConfig({ NODE_ENV: 'test', API_CONTACT_EMAIL: 'not an address' })).toThrow();
});
