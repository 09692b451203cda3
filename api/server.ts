import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createApp, metricsHandler } from './app';
import type { ApiDeps } from './deps';
import { errorBody } from './errors';
import { createMetrics } from './metrics';
import { attachMarketGateway } from './ws/gateway';

export interface RunningServer {
  server: http.Server;
  url: string;
  /** Where /metrics is served without a token, when METRICS_PORT is set. */
  metricsUrl: string | null;
  close(): Promise<void>;
}

/** Node's HTTP parser errors a request before Express sees it; answer those with the same JSON errors. */
const PARSER_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'headers_too_large', 'The request URL or headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request_timeout', 'The request was not received in time'],
};

function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, code, message] = PARSER_ERRORS[err.code ?? ''] ?? [400, 'bad_request', 'The request could not be parsed'];
  const body = JSON.stringify(errorBody(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Stops taking requests and answers the ones already in flight: the listener closes at once (new
 * connections are refused, so a load balancer or a retrying client goes to another instance),
 * each response still to be sent says `Connection: close` so no keep-alive client sends another
 * request here, and idle keep-alive connections are closed. Whatever is still running after
 * `graceMs` is cut.
 */
export function trackInFlight(server: http.Server): { inFlight(): number; drain(graceMs: number): Promise<void> } {
  const inFlight = new Set<http.ServerResponse>();
  let draining = false;
  let onIdle: (() => void) | null = null;
  const lastOnThisConnection = (res: http.ServerResponse) => {
    res.shouldKeepAlive = false;
    if (!res.headersSent) res.setHeader('connection', 'close');
  };
  // Before the app's own listener, so the header is set before any handler writes its answer.
  server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    inFlight.add(res);
    if (draining) lastOnThisConnection(res);
    res.once('close', () => {
      inFlight.delete(res);
      if (draining) server.closeIdleConnections();
      if (inFlight.size === 0) onIdle?.();
    });
  });
  return {
    inFlight: () => inFlight.size,
    drain: async (graceMs) => {
      draining = true;
      for (const res of inFlight) lastOnThisConnection(res);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => (onIdle = resolve)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
        ]);
        clearTimeout(timer);
      }
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The HTTP API on one port (and /metrics on its own port when METRICS_PORT is set). */
export async function startHttpServer(deps: ApiDeps, port: number, host: string): Promise<RunningServer> {
  const metrics = createMetrics();
  const server = http.createServer(createApp(deps, metrics));
  server.on('clientError', answerClientError);
  const requests = trackInFlight(server);
  const closeMarketGateway = attachMarketGateway(server, deps);
  const shownHost = host === '0.0.0.0' || host === '127.0.0.1' ? 'localhost' : host;
  const boundPort = await listen(server, port, host);

  let metricsServer: http.Server | null = null;
  let metricsUrl: string | null = null;
  if (deps.config.METRICS_PORT !== undefined) {
    const metricsApp = express();
    metricsApp.get('/metrics', metricsHandler(metrics));
    metricsServer = http.createServer(metricsApp);
    metricsUrl = `http://${shownHost}:${await listen(metricsServer, deps.config.METRICS_PORT, host)}/metrics`;
  }
  return {
    server,
    url: `http://${shownHost}:${boundPort}`,
    metricsUrl,
    // Graceful: stop accepting, tell WebSocket clients to reconnect elsewhere (1012), finish the
    // requests in flight (up to SHUTDOWN_GRACE_SECONDS), then stop serving /metrics.
    close: async () => {
      await Promise.all([requests.drain(deps.config.SHUTDOWN_GRACE_SECONDS * 1000), closeMarketGateway()]);
      if (metricsServer) await closeServer(metricsServer);
    },
  };
}
