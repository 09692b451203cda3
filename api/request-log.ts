import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../app/logger';

declare module 'express-serve-static-core' {
  interface Request {
    /** The client's x-request-id, or one made up here; echoed on the response and in the logs. */
    id: string;
  }
}

/** A client's request id is kept only if it is short and safe to echo and log; otherwise we make one. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A request id on every request and response, and one log line per request when it ends: info
 * for a success, warn for a 4xx, error for a 5xx or an aborted response (what someone will look
 * for). Hand-written rather than pino-http, which builds two child loggers per request and
 * serialises their bindings even when the line is never written: on the order path that was an
 * eighth of the API's throughput (`npm run bench:markets`, same run with and without it).
 */
export function requestLog(logger: Logger, options: { ignore(url: string): boolean }): RequestHandler {
  return (req, res, next) => {
    const fromClient = req.headers['x-request-id'];
    req.id = typeof fromClient === 'string' && SAFE_REQUEST_ID.test(fromClient) ? fromClient : randomUUID();
    res.setHeader('x-request-id', req.id);
    if (options.ignore(req.url)) return next();
    const startedAt = performance.now();
    // 'close' comes for every response, finished or cut off by the client.
    res.once('close', () => {
      const aborted = !res.writableFinished;
      const level = aborted || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          reqId: req.id,
          req: { method: req.method, url: req.originalUrl },
          res: { statusCode: res.statusCode },
          responseTime: Math.round(performance.now() - startedAt),
        },
        aborted ? 'request aborted' : 'request completed',
      );
    });
    next();
  };
}
