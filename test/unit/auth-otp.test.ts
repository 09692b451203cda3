import { maskPhone, parseMobileNumber, rolesOf, sendWait, type SendLimits } from '../../domain/identity';
import { MemoryOtpStore } from '../../infra/otp-store';
import { otpHasher } from '../../api/identity/keys';

/** One-time codes without services: hashing, expiry, tries, and the send limits with back-off. */

const SECRET = 'unit-test-secret-0123456789abcdef0123';
const hash = otpHasher(SECRET);

describe('phone numbers', () => {
  test.each([
    ['+91 98765 43210', '+919876543210'],
    ['98765-43210', '+919876543210'],
    ['09876543210', '+919876543210'],
    ['+1 415 555 2671', '+14155552671'],
  ])('%s is read as %s (Indian by default)', (input, e164) => {
    expect(parseMobileNumber(input, 'IN')).toBe(e164);
  });

  test.each(['022 2345 6789', '12345', '+91 98765', 'not a number', '+919876543210123456789', ''])(
    '%j is refused (landline, short, junk)',
    (input) => {
      expect(parseMobileNumber(input, 'IN')).toBeNull();
    },
  );

  test('an unknown default country refuses everything rather than guessing', () => {
    expect(parseMobileNumber('9876543210', 'XX')).toBeNull();
  });

  test('masking keeps the country code and the last four digits', () => {
    expect(maskPhone('+919876543210')).toBe('+91******3210');
  });
});

describe('code hashing', () => {
  test('the same code and phone hash alike; another phone, code or secret does not', () => {
    expect(hash('+919876543210', '123456').equals(hash('+919876543210', '123456'))).toBe(true);
    expect(hash('+919876543210', '123456').equals(hash('+919876543211', '123456'))).toBe(false);
    expect(hash('+919876543210', '123456').equals(hash('+919876543210', '123457'))).toBe(false);
    expect(hash('+919876543210', '123456').equals(otpHasher(`${SECRET}x`)('+919876543210', '123456'))).toBe(false);
  });

  test('the hash does not contain the code', () => {
    const h = hash('+919876543210', '123456');
    expect(h.length).toBe(32);
    expect(h.toString('hex')).not.toContain('123456');
    expect(h.toString('latin1')).not.toContain('123456');
  });
});

describe('a pending code', () => {
  let now = 1_000_000;
  const store = new MemoryOtpStore(() => now);
  afterAll(() => store.close());
  const phone = '+919876543210';

  test('is accepted once, then gone', async () => {
    await store.saveCode(phone, hash(phone, '111111'), 300_000);
    expect(await store.checkCode(phone, hash(phone, '111111'), 5)).toBe('ok');
    expect(await store.checkCode(phone, hash(phone, '111111'), 5)).toBe('none');
  });

  test('expires after its TTL', async () => {
    await store.saveCode(phone, hash(phone, '222222'), 300_000);
    now += 299_999;
    expect(await store.checkCode(phone, hash(phone, '000000'), 5)).toBe('wrong');
    now += 1;
    expect(await store.checkCode(phone, hash(phone, '222222'), 5)).toBe('none');
  });

  test('allows 5 tries: 4 wrong then right is fine; 5 wrong burns it', async () => {
    await store.saveCode(phone, hash(phone, '333333'), 300_000);
    for (let i = 0; i < 4; i++) expect(await store.checkCode(phone, hash(phone, '000000'), 5)).toBe('wrong');
    expect(await store.checkCode(phone, hash(phone, '333333'), 5)).toBe('ok');

    await store.saveCode(phone, hash(phone, '444444'), 300_000);
    for (let i = 0; i < 4; i++) expect(await store.checkCode(phone, hash(phone, '000000'), 5)).toBe('wrong');
    expect(await store.checkCode(phone, hash(phone, '000000'), 5)).toBe('locked');
    expect(await store.checkCode(phone, hash(phone, '444444'), 5)).toBe('none');
  });

  test('a new code replaces the old one and its tries', async () => {
    await store.saveCode(phone, hash(phone, '555555'), 300_000);
    for (let i = 0; i < 4; i++) await store.checkCode(phone, hash(phone, '000000'), 5);
    await store.saveCode(phone, hash(phone, '666666'), 300_000);
    expect(await store.checkCode(phone, hash(phone, '555555'), 5)).toBe('wrong');
    expect(await store.checkCode(phone, hash(phone, '666666'), 5)).toBe('ok');
  });
});

describe('send limits', () => {
  const limits: SendLimits = { windowMs: 3_600_000, maxPerWindow: 5, backoffBaseMs: 30_000 };

  test('the wait between sends doubles: 30 s, 60 s, 120 s, 240 s', () => {
    expect(sendWait([], 0, limits)).toBe(0);
    expect(sendWait([0], 10_000, limits)).toBe(20_000);
    expect(sendWait([0], 30_000, limits)).toBe(0);
    expect(sendWait([0, 30_000], 30_000, limits)).toBe(60_000);
    expect(sendWait([0, 30_000, 90_000], 90_000, limits)).toBe(120_000);
    expect(sendWait([0, 30_000, 90_000, 210_000], 210_000, limits)).toBe(240_000);
  });

  test('the sixth in an hour waits until the oldest leaves the window', () => {
    const five = [0, 30_000, 90_000, 210_000, 450_000];
    expect(sendWait(five, 1_000_000, limits)).toBe(3_600_000 - 1_000_000);
    expect(sendWait(five, 3_600_000, limits)).toBe(0);
  });

  test('the memory store admits by the same rule, and a refusal counts nothing', async () => {
    let now = 0;
    const store = new MemoryOtpStore(() => now);
    try {
      expect(await store.admit('phone:a', limits)).toBe(0);
      now = 10_000;
      expect(await store.admit('phone:a', limits)).toBe(20_000);
      expect(await store.admit('phone:a', limits)).toBe(20_000); // the refusal did not push it further
      now = 30_000;
      expect(await store.admit('phone:a', limits)).toBe(0);
      expect(await store.admit('phone:b', limits)).toBe(0); // another key has its own count
      // No back-off: a plain count per window (the per-address limits).
      const perIp = { windowMs: 60_000, maxPerWindow: 2, backoffBaseMs: 0 };
      expect(await store.admit('ip:x', perIp)).toBe(0);
      expect(await store.admit('ip:x', perIp)).toBe(0);
      expect(await store.admit('ip:x', perIp)).toBe(60_000);
      now += 60_000;
      expect(await store.admit('ip:x', perIp)).toBe(0);
    } finally {
      store.close();
    }
  });
});

test('roles: customer always, seller from a link, staff roles from grants', () => {
  expect(rolesOf({ granted: [], linkedToSeller: false })).toEqual(['customer']);
  expect(rolesOf({ granted: ['admin', 'support'], linkedToSeller: true })).toEqual(['customer', 'seller', 'support', 'admin']);
  expect(rolesOf({ granted: ['customer', 'seller', 'root'], linkedToSeller: false })).toEqual(['customer']);
});
