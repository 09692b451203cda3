import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import { createLogger } from '../../app/logger';
import { requestLog } from '../../api/request-log';

/** An app with the request log in front of a few routes, its log lines captured. */
async function serve(level = 'info') {
  const lines: Array<Record<string, any>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const app = express();
  app.use(requestLog(createLogger(level, 'mandi', stream), { ignore: (url) => url === '/healthz' }));
  app.get('/ok', (req, res) => void res.json({ id: req.id }));
  app.get('/missing', (_req, res) => void res.status(404).json({}));
  app.get('/broken', (_req, res) => void res.status(500).json({}));
  app.get('/healthz', (_req, res) => void res.json({}));
  app.get('/hang', () => {});
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, { headers });
    await res.text();
    // The line is written on 'close', just after the response has gone out.
    await new Promise((r) => setTimeout(r, 20));
    return res;
  };
  return {
    lines,
    base,
    get,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}

test('every response carries a request id: the client’s, or a new one, also seen by the handler', async () => {
  const s = await serve();
  try {
    const echoed = await s.get('/ok', { 'x-request-id': 'trace-abc' });
    expect(echoed.headers.get('x-request-id')).toBe('trace-abc');
    const fresh = await s.get('/ok');
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const longest = await s.get('/ok', { 'x-request-id': 'x'.repeat(128) });
    expect(longest.headers.get('x-request-id')).toBe('x'.repeat(128));
    // Too long or unsafe to echo and log: replaced, never truncated or passed on.
    const tooLong = await s.get('/ok', { 'x-request-id': 'x'.repeat(129) });
    expect(tooLong.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await s.get('/ok', { 'x-request-id': 'a"b' });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  } finally {
    await s.close();
  }
});

test('one line per request, its level following the outcome; ignored paths are not logged', async () => {
  const s = await serve();
  try {
    await s.get('/ok', { 'x-request-id': 'r-ok' });
    await s.get('/missing', { 'x-request-id': 'r-404' });
    await s.get('/broken', { 'x-request-id': 'r-500' });
    await s.get('/healthz');
    expect(s.lines.map((l) => [l.reqId, l.level, l.req.method, l.req.url, l.res.statusCode, l.msg])).toEqual([
      ['r-ok', 30, 'GET', '/ok', 200, 'request completed'],
      ['r-404', 40, 'GET', '/missing', 404, 'request completed'],
      ['r-500', 50, 'GET', '/broken', 500, 'request completed'],
    ]);
    for (const l of s.lines) expect(l.responseTime).toBeGreaterThanOrEqual(0);
  } finally {
    await s.close();
  }
});

test('below the logger’s level nothing is written', async () => {
  const s = await serve('warn');
  try {
    await s.get('/ok');
    await s.get('/missing');
    expect(s.lines.map((l) => l.res.statusCode)).toEqual([404]);
  } finally {
    await s.close();
  }
});

test('a request the client gives up on is logged as aborted, as an error', async () => {
  const s = await serve();
  try {
    await expect(fetch(`${s.base}/hang`, { headers: { 'x-request-id': 'r-gone' }, signal: AbortSignal.timeout(50) })).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    expect(s.lines.map((l) => [l.reqId, l.level, l.msg])).toEqual([['r-gone', 50, 'request aborted']]);
  } finally {
    await s.close();
  }
});
