import jwt from 'jsonwebtoken';
import { signToken, tokenVerifier } from '../../api/auth';

/** Bearer tokens are verified once and remembered — but never past their expiry, and only byte for byte. */

const SECRET = 'token-verifier-test-secret-0123456789';

function errorCode(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

test('a remembered token gives the same principal as a fresh verification', () => {
  const verify = tokenVerifier(SECRET);
  const token = signToken(SECRET, { userId: 'u1', roles: ['customer', 'support'] });
  expect(verify(token)).toEqual({ userId: 'u1', roles: ['customer', 'support'] });
  expect(verify(token)).toEqual({ userId: 'u1', roles: ['customer', 'support'] });
});

test('a remembered token still expires on time', async () => {
  const verify = tokenVerifier(SECRET);
  const token = signToken(SECRET, { userId: 'u2', roles: ['customer'] }, 1);
  expect(verify(token).userId).toBe('u2');
  const exp = (jwt.decode(token) as { exp: number }).exp * 1000;
  await new Promise((r) => setTimeout(r, exp - Date.now() + 20));
  expect(errorCode(() => verify(token))).toBe('token_expired');
});

test('a token that differs from a remembered one in any byte is verified on its own, and refused', () => {
  const verify = tokenVerifier(SECRET);
  const token = signToken(SECRET, { userId: 'u3', roles: ['customer'] });
  verify(token);
  const [header, , signature] = token.split('.');
  const forgedPayload = Buffer.from(JSON.stringify({ sub: 'u3', roles: ['admin'], exp: Math.floor(Date.now() / 1000) + 3600 })).toString(
    'base64url',
  );
  expect(errorCode(() => verify(`${header}.${forgedPayload}.${signature}`))).toBe('invalid_token');
  expect(errorCode(() => verify(`${token.slice(0, -2)}xx`))).toBe('invalid_token');
  expect(errorCode(() => verify(signToken('another-secret-0123456789abcdef', { userId: 'u3', roles: ['admin'] })))).toBe('invalid_token');
});

test('a token without an expiry is refused, however well signed', () => {
  const verify = tokenVerifier(SECRET);
  const unexpiring = jwt.sign({ roles: ['customer'] }, SECRET, { algorithm: 'HS256', subject: 'u4' });
  expect(errorCode(() => verify(unexpiring))).toBe('invalid_token');
});
