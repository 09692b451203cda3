import { ConfigError, loadConfig } from '../../app/config';

/** Identity settings: safe defaults outside and inside production, and refusals that name the variable. */

const production = {
  NODE_ENV: 'production',
  JWT_SECRET: 'a-production-secret-of-32-characters!',
  PSP_WEBHOOK_SECRET: 'a-webhook-secret-16+',
  // The payment rails' own rule (production refuses the sandbox) is tested with them.
  ALLOW_SANDBOX_IN_PRODUCTION: 'true',
};

test('outside production: dev tokens on, the sandbox sender, 15-minute access and 90-day refresh tokens', () => {
  const config = loadConfig({});
  expect(config).toMatchObject({
    AUTH_DEV_TOKENS: true,
    OTP_SENDER: 'sandbox',
    AUTH_ACCESS_TOKEN_TTL_SECONDS: 900,
    AUTH_REFRESH_TOKEN_TTL_DAYS: 90,
    OTP_TTL_SECONDS: 300,
    OTP_MAX_ATTEMPTS: 5,
    OTP_MAX_SENDS_PER_WINDOW: 5,
    AUTH_DEFAULT_COUNTRY: 'IN',
    ACCOUNT_DELETION_GRACE_SECONDS: 30 * 24 * 3600,
  });
});

test('in production: dev tokens off unless enabled explicitly, and no OTP sender unless a real one is chosen', () => {
  expect(loadConfig(production)).toMatchObject({ AUTH_DEV_TOKENS: false, OTP_SENDER: 'disabled' });
  expect(loadConfig({ ...production, AUTH_DEV_TOKENS: 'true' }).AUTH_DEV_TOKENS).toBe(true);
  expect(loadConfig({ AUTH_DEV_TOKENS: 'false' }).AUTH_DEV_TOKENS).toBe(false);
});

test.each([
  [{ ...production, OTP_SENDER: 'sandbox' }, 'OTP_SENDER'],
  [{ AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json' }, 'AUTH_ISSUER'],
  [{ AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json', AUTH_ISSUER: 'https://idp.example/' }, 'AUTH_AUDIENCE'],
  [{ AUTH_ISSUER: 'https://idp.example/', AUTH_AUDIENCE: 'mandi' }, 'AUTH_JWKS_URL'],
  [{ AUTH_ROLES_CLAIM: 'roles' }, 'AUTH_ROLES_CLAIM'],
  [{ AUTH_JWKS_URL: 'not a url', AUTH_ISSUER: 'i', AUTH_AUDIENCE: 'a' }, 'AUTH_JWKS_URL'],
  [{ AUTH_DEV_TOKENS: 'yes' }, 'AUTH_DEV_TOKENS'],
  [{ AUTH_DEFAULT_COUNTRY: 'india' }, 'AUTH_DEFAULT_COUNTRY'],
  [{ AUTH_ACCESS_TOKEN_TTL_SECONDS: '86400' }, 'AUTH_ACCESS_TOKEN_TTL_SECONDS'],
  [{ AUTH_TERMS_VERSION: 'has spaces' }, 'AUTH_TERMS_VERSION'],
])('a bad identity setting stops start-up and names the variable: %j', (env, variable) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(new RegExp(`\\b${variable}\\b`));
});

test('an external provider is configured by all three settings together', () => {
  const config = loadConfig({
    AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
    AUTH_ISSUER: 'https://idp.example/',
    AUTH_AUDIENCE: 'mandi',
    AUTH_ROLES_CLAIM: 'app_metadata.roles',
  });
  expect(config).toMatchObject({ AUTH_ISSUER: 'https://idp.example/', AUTH_AUDIENCE: 'mandi', AUTH_ROLES_CLAIM: 'app_metadata.roles' });
});
