import { loadConfig } from '../../../app/config';
import { classify } from '../../../infra/razorpay/errors';
import { payoutStatusOf } from '../../../infra/razorpayx/payout-provider';

const prod = { NODE_ENV: 'production', JWT_SECRET: 'a-production-secret-of-32-characters!', PSP_WEBHOOK_SECRET: 'a-webhook-secret-16+' };
const keys = {
  RAZORPAY_KEY_ID: 'rzp_test_abcdef123456',
  RAZORPAY_KEY_SECRET: 'secret-of-the-key',
  RAZORPAY_WEBHOOK_SECRET: 'whsec-razorpay',
};

test('the sandbox is the default outside production', () => {
  const c = loadConfig({});
  expect(c).toMatchObject({ PAYMENT_PROVIDER: 'sandbox', PAYOUT_PROVIDER: 'sandbox' });
});

test('production refuses the sandbox rails unless ALLOW_SANDBOX_IN_PRODUCTION=true', () => {
  expect(() => loadConfig(prod)).toThrow(/PAYMENT_PROVIDER: sandbox is not allowed in production[\s\S]*PAYOUT_PROVIDER/);
  expect(loadConfig({ ...prod, ALLOW_SANDBOX_IN_PRODUCTION: 'true' }).PAYMENT_PROVIDER).toBe('sandbox');
});

test('razorpay and razorpayx need their keys, named in the message', () => {
  expect(() => loadConfig({ PAYMENT_PROVIDER: 'razorpay' })).toThrow(/RAZORPAY_KEY_ID: is required with PAYMENT_PROVIDER=razorpay/);
  expect(() => loadConfig({ ...keys, PAYOUT_PROVIDER: 'razorpayx' })).toThrow(/RAZORPAYX_ACCOUNT_NUMBER/);
  expect(() => loadConfig({ ...keys, RAZORPAY_KEY_ID: 'sk_live_x' })).toThrow(/RAZORPAY_KEY_ID: must be a Razorpay key id/);
  const live = loadConfig({
    ...prod,
    ...keys,
    PAYMENT_PROVIDER: 'razorpay',
    PAYOUT_PROVIDER: 'razorpayx',
    RAZORPAYX_ACCOUNT_NUMBER: '2323230000000000',
  });
  expect(live).toMatchObject({ PAYMENT_PROVIDER: 'razorpay', PAYOUT_PROVIDER: 'razorpayx' });
});

test.each([
  [{ statusCode: 500, error: { code: 'SERVER_ERROR' } }, 'payment', 'unavailable'],
  [{ statusCode: 502, error: { code: 'GATEWAY_ERROR' } }, 'payment', 'unavailable'],
  [{ statusCode: 429, error: { code: 'BAD_REQUEST_ERROR' } }, 'payment', 'unavailable'],
  [{ statusCode: 401, error: { code: 'BAD_REQUEST_ERROR', reason: 'authentication_failed' } }, 'payment', 'unavailable'],
  [new TypeError("Cannot read properties of undefined (reading 'status')"), 'payment', 'unavailable'],
  [{ statusCode: 400, error: { code: 'BAD_REQUEST_ERROR', reason: 'insufficient_funds' } }, 'payment', 'declined:insufficient_funds'],
  [{ statusCode: 400, error: { code: 'BAD_REQUEST_ERROR', reason: 'payment_declined' } }, 'payment', 'declined:card_declined'],
  [
    { statusCode: 400, error: { code: 'BAD_REQUEST_ERROR', description: 'The refund amount provided is greater than amount captured' } },
    'refund',
    'refund_rejected',
  ],
  [{ statusCode: 503, error: { code: 'SERVER_ERROR' } }, 'refund', 'unavailable'],
])('Razorpay answer %j on a %s is %s', (err, op, outcome) => {
  expect(classify(err, op as 'payment' | 'refund')).toBe(outcome);
});

test('RazorpayX states: only processed pays, only a final refusal or reversal gives back, the rest waits', () => {
  expect(['queued', 'pending', 'processing'].map((s) => payoutStatusOf(s as never))).toEqual(['pending', 'pending', 'pending']);
  expect(payoutStatusOf('processed')).toBe('succeeded');
  expect(['reversed', 'cancelled', 'rejected', 'failed'].map((s) => payoutStatusOf(s as never))).toEqual([
    'failed',
    'failed',
    'failed',
    'failed',
  ]);
});
