import { createSecretKey } from 'node:crypto';
import { SignJWT } from 'jose';
import jwt from 'jsonwebtoken';
import { AccessTokens } from '../../api/identity/access-tokens';
import { BearerVerifier } from '../../api/identity/bearer';
import { signToken } from '../../api/identity/dev-tokens';
import { rolesFromClaim } from '../../api/identity/external-idp';
import { accessTokenKey } from '../../api/identity/keys';
import type { Db } from '../../db/knex';

/** Mandi's access tokens and how the API tells the kinds of bearer token apart — no services. */

const SECRET = 'unit-test-secret-0123456789abcdef0123';
const claims = { userId: 'usr_abcdefghijklmnopqrst', roles: ['customer' as const], sessionId: 'ses_abcdefghijklmnopqrst', tokenVersion: 3 };

async function code(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('access tokens', () => {
  const tokens = new AccessTokens(SECRET, 900);

  test('carry the user, roles, session and token version, for 15 minutes', async () => {
    const token = await tokens.sign(claims);
    const verified = await tokens.verify(token);
    expect(verified).toMatchObject(claims);
    expect(verified.expiresAtMs - Date.now()).toBeGreaterThan(899_000);
    expect(verified.expiresAtMs - Date.now()).toBeLessThanOrEqual(900_000);
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt' });
  });

  test('an expired one is token_expired', async () => {
    const token = await new AccessTokens(SECRET, 60).sign(claims);
    const past = await new SignJWT({ roles: ['customer'], sid: claims.sessionId, tv: 0 })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setSubject(claims.userId)
      .setIssuer('mandi')
      .setAudience('mandi-api')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(accessTokenKey(SECRET));
    expect(await code(() => tokens.verify(token))).toBeUndefined();
    expect(await code(() => tokens.verify(past))).toBe('token_expired');
  });

  test('one signed with another secret, or with JWT_SECRET itself (a dev token key), is refused', async () => {
    expect(await code(async () => tokens.verify(await new AccessTokens(`${SECRET}x`, 900).sign(claims)))).toBe('invalid_token');
    const withRawSecret = await new SignJWT({ roles: ['admin'], sid: claims.sessionId, tv: 3 })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setSubject(claims.userId)
      .setIssuer('mandi')
      .setAudience('mandi-api')
      .setExpirationTime('5m')
      .sign(createSecretKey(Buffer.from(SECRET)));
    expect(await code(() => tokens.verify(withRawSecret))).toBe('invalid_token');
  });
});

describe('telling bearer tokens apart', () => {
  // No external provider and no revocation check here: nothing reaches the database.
  const db = null as unknown as Db;
  const accessTokens = new AccessTokens(SECRET, 900);
  const devKey = createSecretKey(Buffer.from(SECRET));
  const withDev = new BearerVerifier({ db, accessTokens, devKey, external: null, revocations: null, rolesCacheMs: 1000 });
  const withoutDev = new BearerVerifier({ db, accessTokens, devKey: null, external: null, revocations: null, rolesCacheMs: 1000 });

  test('a Mandi access token gives its principal with the session', async () => {
    const token = await accessTokens.sign(claims);
    expect((await withoutDev.verify(token)).principal).toEqual({ userId: claims.userId, roles: ['customer'], sessionId: claims.sessionId });
    expect(withoutDev.cached(token)?.principal.userId).toBe(claims.userId);
  });

  test('dev tokens pass only where they are enabled', async () => {
    const dev = signToken(SECRET, { userId: 'u1', roles: ['admin'] });
    expect((await withDev.verify(dev)).principal).toEqual({ userId: 'u1', roles: ['admin'] });
    expect(await code(() => withoutDev.verify(dev))).toBe('dev_tokens_disabled');
  });

  test('a dev token dressed as an access token (issuer mandi, signed with JWT_SECRET) is refused', async () => {
    const forged = jwt.sign({ roles: ['admin'], sid: claims.sessionId, tv: 3, iss: 'mandi', aud: 'mandi-api' }, SECRET, {
      algorithm: 'HS256',
      subject: claims.userId,
      expiresIn: 300,
    });
    expect(await code(() => withDev.verify(forged))).toBe('invalid_token');
  });

  test('RS256 tokens with no provider configured, alg none and junk are refused', async () => {
    const header = (h: object) => Buffer.from(JSON.stringify(h)).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'x', roles: ['admin'], exp: Math.floor(Date.now() / 1000) + 60 })).toString(
      'base64url',
    );
    expect(await code(() => withDev.verify(`${header({ alg: 'RS256' })}.${payload}.c2ln`))).toBe('invalid_token');
    expect(await code(() => withDev.verify(`${header({ alg: 'none' })}.${payload}.`))).toBe('invalid_token');
    expect(await code(() => withDev.verify('not-a-jwt'))).toBe('invalid_token');
  });
});

describe('roles from an external provider’s claim', () => {
  test.each([
    [{ 'https://mandi.example/roles': ['admin', 'editor'] }, 'https://mandi.example/roles', ['customer', 'admin']],
    [{ app_metadata: { roles: ['support'] } }, 'app_metadata.roles', ['customer', 'support']],
    [{ 'cognito:groups': ['seller', 'support'] }, 'cognito:groups', ['customer', 'seller', 'support']],
    [{ roles: 'support admin' }, 'roles', ['customer', 'support', 'admin']],
    [{ roles: 7 }, 'roles', ['customer']],
    [{}, 'roles', ['customer']],
  ])('%j read at %s gives %j', (payload, claim, roles) => {
    expect(rolesFromClaim(payload as Record<string, unknown>, claim)).toEqual(roles);
  });
});
