/**
 * `npm run -s watch -- <marketId> [--token <jwt>] [--url http://localhost:3000]` follows one market's
 * live feed on the API's WebSocket (`/v1/ws`, see api/ws/gateway.ts): the snapshot, then every update
 * — and with a token the caller's own order and fill events — each printed as one JSON line on
 * stdout, so it can be piped (`| jq`); notes and errors go to stderr. Needs no TTY.
 *
 * Exit codes: 0 after Ctrl-C (SIGINT) or SIGTERM; 1 when the API cannot be reached, the market does
 * not exist, the token is refused, or the API ends the connection; 2 for bad usage.
 */
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const USAGE = 'usage: npm run -s watch -- <marketId> [--token <jwt>] [--url http://localhost:3000]';
const MARKET_ID = /^mk_[a-z0-9]{8,40}$/;
/** How long to wait for the connection, and then for the snapshot, before giving up. */
const CONNECT_TIMEOUT_MS = 10_000;
const SNAPSHOT_TIMEOUT_MS = 15_000;

function usage(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function parse(): { marketId: string; token: string | undefined; wsUrl: string; apiUrl: string } {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { token: { type: 'string' }, url: { type: 'string', default: 'http://localhost:3000' } },
    });
  } catch (err) {
    usage((err as Error).message);
  }
  const { positionals, values } = parsed;
  if (positionals.length !== 1) usage(positionals.length === 0 ? 'which market? give its id (mk_…)' : 'one market at a time');
  let api: URL;
  try {
    api = new URL(values.url!);
  } catch {
    usage(`--url is not a URL: ${values.url}`);
  }
  if (api.protocol !== 'http:' && api.protocol !== 'https:') usage(`--url must be http(s)://…, not ${values.url}`);
  const ws = new URL(api);
  ws.protocol = api.protocol === 'https:' ? 'wss:' : 'ws:';
  ws.pathname = `${api.pathname.replace(/\/$/, '')}/v1/ws`;
  return { marketId: positionals[0], token: values.token, wsUrl: ws.toString(), apiUrl: api.origin };
}

function main(): void {
  const { marketId, token, wsUrl, apiUrl } = parse();
  let stopping = false;
  let snapshotTimer: NodeJS.Timeout | undefined;
  let socket: WebSocket | undefined;

  // Ends the process once what was written has been flushed.
  const finish = (code: number, message?: string) => {
    if (message) console.error(message);
    stopping = true;
    clearTimeout(snapshotTimer);
    socket?.terminate();
    process.stdout.write('', () => process.exit(code));
  };
  // A reader that went away (`| head`) is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'EPIPE' ? 0 : 1));

  // Not an id the API could know: answer as it would, without a round trip.
  if (!MARKET_ID.test(marketId)) return finish(1, `market ${marketId} not found (market ids look like mk_…)`);

  const ws = (socket = new WebSocket(wsUrl, { handshakeTimeout: CONNECT_TIMEOUT_MS }));
  const line = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);

  ws.on('open', () => {
    // The gateway handles one client's messages in order: the token applies before the snapshot.
    if (token) ws.send(JSON.stringify({ op: 'auth', token }));
    ws.send(JSON.stringify({ op: 'subscribe', market: marketId }));
    snapshotTimer = setTimeout(
      () => finish(1, `no snapshot of market ${marketId} from ${apiUrl} within ${SNAPSHOT_TIMEOUT_MS / 1000} s`),
      SNAPSHOT_TIMEOUT_MS,
    );
  });

  ws.on('message', (data) => {
    let m: { type?: string; code?: string; message?: string; userId?: string };
    try {
      m = JSON.parse(data.toString());
    } catch {
      return finish(1, `the API sent something that is not JSON: ${data.toString().slice(0, 200)}`);
    }
    if (m.type === 'error') {
      if (m.code === 'market_not_found') return finish(1, `market ${marketId} not found at ${apiUrl}`);
      if (m.code === 'invalid_token' || m.code === 'token_expired' || m.code === 'forbidden')
        return finish(1, `the token was refused (${m.code}): ${m.message}`);
      return finish(1, `the API answered with an error (${m.code}): ${m.message}`);
    }
    if (m.type === 'authenticated') {
      console.error(`authenticated as ${m.userId}: your own order and fill events follow too`);
      return;
    }
    if (m.type === 'snapshot') clearTimeout(snapshotTimer);
    line(m);
  });

  ws.on('error', (err: NodeJS.ErrnoException) => {
    if (stopping) return;
    const why = err.code === 'ECONNREFUSED' ? 'connection refused' : err.message;
    finish(1, `cannot reach the API at ${wsUrl}: ${why}`);
  });

  ws.on('close', (code, reason) => {
    if (stopping) return;
    finish(1, `the API closed the connection (${code}${reason.length ? ` ${reason.toString()}` : ''})`);
  });

  const stop = () => {
    if (stopping) return;
    stopping = true;
    clearTimeout(snapshotTimer);
    // A clean close; if the server does not answer it promptly, leave anyway.
    ws.close(1000, 'watcher stopped');
    const force = setTimeout(() => finish(0), 1_000);
    ws.once('close', () => {
      clearTimeout(force);
      finish(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main();
