import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Credentials never reach the logs, whoever logs a request or its headers. */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-provider-signature"]',
  'headers.authorization',
  'token',
];

export function createLogger(level: string, name = 'mandi', destination?: DestinationStream): Logger {
  const options = {
    name,
    level,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
