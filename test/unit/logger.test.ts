import { Writable } from 'node:stream';
import { createLogger } from '../../app/logger';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger('info', 'mandi', stream) };
}

test('bearer tokens, cookies and webhook signatures are redacted from logs', () => {
  const { lines, logger } = capture();
  logger.info(
    { req: { headers: { authorization: 'Bearer eyJ-secret', cookie: 'sid=secret', 'x-provider-signature': 'sig-secret' } } },
    'request',
  );
  logger.info({ token: 'tok-secret' }, 'token');
  const out = lines.join('');
  expect(out).not.toMatch(/secret/);
  expect(JSON.parse(lines[0]).req.headers.authorization).toBe('[redacted]');
});

test('log lines are JSON with the service name and level', () => {
  const { lines, logger } = capture();
  logger.warn({ orderId: 'ord_1' }, 'slow');
  expect(JSON.parse(lines[0])).toMatchObject({ service: 'mandi', level: 40, orderId: 'ord_1', msg: 'slow' });
});
