import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Logger } from '../app/logger';
import { readRejection, type RejectionKind } from '../domain/rejection';
import { unavailableDependency } from '../app/unavailable';

/** An error the API answers with on purpose: `{ error: { code, message, details } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const forbidden = (message = 'You may not do this') => new ApiError(403, 'forbidden', message);

export interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

/** Every error carries `details`, always an object (possibly empty), so clients can read it without checks. */
export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  const asObject =
    details === undefined || details === null ? {} : typeof details === 'object' && !Array.isArray(details) ? details : { value: details };
  return { error: { code, message, details: asObject as Record<string, unknown> } };
}

/** body-parser's errors carry a `type`; map them to what the client did wrong. */
const BODY_PARSER_ERRORS: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'malformed_json', 'The request body is not valid JSON'],
  'entity.too.large': [413, 'payload_too_large', 'The request body is too large'],
  'encoding.unsupported': [415, 'unsupported_encoding', 'The request body encoding is not supported'],
  'charset.unsupported': [415, 'unsupported_charset', 'The request body charset is not supported'],
  'request.aborted': [400, 'request_aborted', 'The request was aborted'],
  'request.size.invalid': [400, 'malformed_body', 'The request body does not match its Content-Length'],
  'entity.invalid_utf8': [400, 'invalid_text', 'The request body is not valid UTF-8'],
};

export function zodDetails(err: ZodError) {
  return { issues: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code })) };
}

/**
 * Failures raised by the framework before a handler runs (Express decoding a path parameter,
 * body-parser inflating or reading a body) carry an HTTP status of their own; a 4xx among them is
 * the client's doing and is answered as such. Keyed by status, for those without a `type` above.
 */
const FRAMEWORK_4XX: Record<number, [string, string]> = {
  400: ['bad_request', 'The request could not be read'],
  408: ['request_timeout', 'The request body was not received in time'],
  413: ['payload_too_large', 'The request body is too large'],
  414: ['uri_too_long', 'The request URL is too long'],
  415: ['unsupported_media_type', 'The request body encoding or type is not supported'],
  431: ['headers_too_large', 'The request headers are too large'],
};

function frameworkStatus(err: unknown): number | null {
  const status = (err as { status?: unknown; statusCode?: unknown } | null)?.status ?? (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : null;
}

/** The one place a business rejection becomes an HTTP status: by its kind, the same for every flow. */
export const REJECTION_STATUS: Record<RejectionKind, number> = { invalid: 422, conflict: 409, not_found: 404 };

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (err instanceof ApiError) {
      res.status(err.status).json(errorBody(err.code, err.message, err.details));
      return;
    }
    if (err instanceof ZodError) {
      res.status(400).json(errorBody('validation_failed', 'The request is invalid', zodDetails(err)));
      return;
    }
    const parserError = typeof err?.type === 'string' ? BODY_PARSER_ERRORS[err.type] : undefined;
    if (parserError) {
      const [status, code, message] = parserError;
      res.status(status).json(errorBody(code, message));
      return;
    }
    if (err instanceof URIError) {
      res.status(400).json(errorBody('malformed_url', 'The request URL is not validly percent-encoded'));
      return;
    }
    // A compressed body that does not inflate: zlib's error (Z_… for gzip/deflate, ERR__… for brotli).
    if (typeof err?.code === 'string' && /^(Z_|ERR__)/.test(err.code)) {
      res.status(400).json(errorBody('malformed_body', 'The request body does not match its Content-Encoding'));
      return;
    }
    const status = frameworkStatus(err);
    if (status !== null) {
      const [code, message] = FRAMEWORK_4XX[status] ?? ['bad_request', 'The request could not be processed'];
      res.status(status).json(errorBody(code, message));
      return;
    }
    const rejected = readRejection(err);
    if (rejected) {
      res.status(REJECTION_STATUS[rejected.kind]).json(errorBody(rejected.code, rejected.message, rejected.details));
      return;
    }
    if (err instanceof WorkflowNotFoundError) {
      res.status(404).json(errorBody('not_found', 'No such flow is running'));
      return;
    }
    const away = unavailableDependency(err);
    if (away) {
      logger.warn({ err, reqId: req.id, dependency: away }, 'a dependency is unavailable');
      res.setHeader('Retry-After', '1');
      res.status(503).json(errorBody('service_unavailable', 'A service this request needs is unavailable for a moment; retry shortly'));
      return;
    }
    logger.error({ err, reqId: req.id }, 'unhandled error');
    res.status(500).json(errorBody('internal_error', 'Something went wrong on our side'));
  };
}

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json(errorBody('route_not_found', `No route for ${req.method} ${req.path}`));
};
