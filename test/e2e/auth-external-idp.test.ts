import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import jwt from 'jsonwebtoken';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { connectClient } from '../support/temporal';
import { answer } from '../support/typed-client';
import { startAuthApi, type AuthApi } from './auth-helpers';

/**
 * A team's own identity provider: Mandi accepts its RS256/ES256 tokens, verified against the JWKS
 * the provider publishes — served here by the test itself — and maps each subject to a Mandi user.
 */

const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'mandi-api';
const ROLES_CLAIM = 'https://mandi.example/roles';

let tdb: TestDatabase;
let temporal: { client: Client; close(): Promise<void> };
let jwksServer: http.Server;
let jwksUrl: string;
let jwksFetches = 0;
let rsa: { privateKey: KeyLike; publicKey: KeyLike };
let ec: { privateKey: KeyLike; publicKey: KeyLike };
let stranger: { privateKey: KeyLike; publicKey: KeyLike };
let withClaim: AuthApi;
let fromPostgres: AuthApi;

beforeAll(async () => {
  tdb = await createTestDatabase();
  temporal = await connectClient();
  rsa = await generateKeyPair('RS256');
  ec = await generateKeyPair('ES256');
  stranger = await generateKeyPair('RS256');
  const keys: JWK[] = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ];
  jwksServer = http.createServer((req, res) => {
    jwksFetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  const idp = { AUTH_JWKS_URL: jwksUrl, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE };
  // As in production: the provider's tokens, and no dev tokens.
  withClaim = await startAuthApi({
    db: tdb.db,
    temporal: temporal.client,
    taskQueue: `test-${randomUUID()}`,
    env: { ...idp, AUTH_ROLES_CLAIM: ROLES_CLAIM, AUTH_DEV_TOKENS: 'false' },
  });
  fromPostgres = await startAuthApi({
    db: tdb.db,
    temporal: temporal.client,
    taskQueue: `test-${randomUUID()}`,
    env: { ...idp, AUTH_REVOCATION_CACHE_MS: '200' },
  });
});
afterAll(async () => {
  await withClaim?.close();
  await fromPostgres?.close();
  await new Promise((r) => jwksServer?.close(r));
  await temporal?.close();
  await tdb?.drop();
});

const wallet = (on: AuthApi, token: string) => answer(on.client(token).GET('/v1/wallet'));
const alerts = (on: AuthApi, token: string) => answer(on.client(token).GET('/v1/ops/alerts'));

function providerToken(
  key: KeyLike,
  options: {
    alg?: string;
    kid?: string;
    sub?: string;
    iss?: string;
    aud?: string;
    exp?: number | string;
    claims?: Record<string, unknown>;
  } = {},
): Promise<string> {
  const alg = options.alg ?? 'RS256';
  const token = new SignJWT({ ...options.claims })
    .setProtectedHeader({ alg, kid: options.kid ?? (alg === 'ES256' ? 'ec-1' : 'rsa-1') })
    .setSubject(options.sub ?? `auth0|${randomUUID()}`)
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt();
  if (options.exp !== undefined) token.setExpirationTime(options.exp);
  else token.setExpirationTime('10m');
  return token.sign(key);
}

test('an RS256 token from the provider is accepted, mapped to one Mandi user per subject, roles read from the claim', async () => {
  const sub = `auth0|${randomUUID()}`;
  const token = await providerToken(rsa.privateKey, { sub, claims: { [ROLES_CLAIM]: ['support', 'superuser'] } });
  const mine = await wallet(withClaim, token);
  expect(mine.status).toBe(200);
  expect(mine.body.userId).toMatch(/^usr_[a-z2-7]{20}$/);
  expect((await alerts(withClaim, token)).status).toBe(200); // support, from the claim

  // A new token for the same subject is the same user, on either API instance.
  const again = await providerToken(rsa.privateKey, { sub });
  expect((await wallet(withClaim, again)).body.userId).toBe(mine.body.userId);
  expect((await wallet(fromPostgres, again)).body.userId).toBe(mine.body.userId);
  expect((await alerts(withClaim, again)).status).toBe(403); // no roles claim: customer
});

test('ES256 works too, and the key set is fetched once and cached', async () => {
  const before = jwksFetches;
  for (let i = 0; i < 5; i++) {
    const token = await providerToken(ec.privateKey, { alg: 'ES256' });
    expect((await wallet(withClaim, token)).status).toBe(200);
  }
  expect(jwksFetches - before).toBeLessThanOrEqual(1);
});

test.each([
  ['another audience', () => providerToken(rsa.privateKey, { aud: 'someone-else' }), 'invalid_token'],
  ['another issuer', () => providerToken(rsa.privateKey, { iss: 'https://evil.example/' }), 'invalid_token'],
  ['a key the provider never published', () => providerToken(stranger.privateKey), 'invalid_token'],
  ['an expired token', () => providerToken(rsa.privateKey, { exp: Math.floor(Date.now() / 1000) - 60 }), 'token_expired'],
  [
    'a token without an expiry',
    () =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
        .setSubject('auth0|x')
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .sign(rsa.privateKey),
    'invalid_token',
  ],
  [
    'HS256 signed with the provider’s public key (algorithm confusion)',
    async () =>
      jwt.sign({ sub: 'auth0|x', iss: ISSUER, aud: AUDIENCE }, await exportSPKI(rsa.publicKey), { algorithm: 'HS256', expiresIn: 600 }),
    'dev_tokens_disabled',
  ],
])('%s is refused', async (_what, make, code) => {
  const res = await wallet(withClaim, await make());
  expect(res.status).toBe(401);
  expect(res.body.error.code).toBe(code);
});

test('with dev tokens off, an HS256 dev token is refused', async () => {
  const res = await wallet(withClaim, withClaim.devToken('someone', ['admin']));
  expect(res.status).toBe(401);
  expect(res.body.error.code).toBe('dev_tokens_disabled');
});

test('without a roles claim, roles come from Postgres and an admin’s grant takes effect within seconds', async () => {
  const sub = `clerk_${randomUUID()}`;
  const token = await providerToken(rsa.privateKey, { sub });
  const me = await wallet(fromPostgres, token);
  expect((await alerts(fromPostgres, token)).status).toBe(403);
  const granted = await answer(
    fromPostgres.client(fromPostgres.devToken('ops_admin', ['admin'])).POST('/v1/admin/users/{userId}/roles', {
      params: { path: { userId: me.body.userId } },
      body: { grant: ['support'] },
    }),
  );
  expect(granted.status).toBe(200);
  await new Promise((r) => setTimeout(r, 1_100));
  expect((await alerts(fromPostgres, token)).status).toBe(200);
});

test('a provider that cannot be reached is a 503, not a verdict on the token', async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const down = await startAuthApi({
    db: tdb.db,
    temporal: temporal.client,
    taskQueue: `test-${randomUUID()}`,
    env: { AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE },
  });
  try {
    // Raw, and so not held to the document: it does not yet declare the 503 an unreachable identity provider gives.
    const res = await down.request('GET', '/v1/wallet', { token: await providerToken(rsa.privateKey) });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('identity_provider_unavailable');
  } finally {
    await down.close();
  }
});
