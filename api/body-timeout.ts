import type { RequestHandler } from 'express';
import { errorBody } from './errors';

/**
 * A client that announces a body and then sends it slowly (or never) would hold a request, and
 * its slot in every limit, for as long as it likes: Node's own `requestTimeout` is minutes and
 * answers with an empty 408. Here the body must be in within `timeoutMs` of the headers, else the
 * client gets the standard JSON 408 and the connection is closed.
 */
export function bodyReadTimeout(timeoutMs: number): RequestHandler {
  return (req, res, next) => {
    const announcesBody = (req.headers['content-length'] ?? '0') !== '0' || req.headers['transfer-encoding'] !== undefined;
    if (!announcesBody || req.readableEnded) return next();
    const timer = setTimeout(() => {
      if (req.readableEnded || res.headersSent) return;
      res.setHeader('Connection', 'close');
      res.status(408).json(errorBody('request_timeout', `The request body was not received within ${timeoutMs} ms`));
      res.once('finish', () => req.destroy());
    }, timeoutMs);
    timer.unref();
    const clear = () => clearTimeout(timer);
    req.once('end', clear);
    req.once('close', clear);
    res.once('close', clear);
    next();
  };
}
