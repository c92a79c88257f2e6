import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Paths that pino replaces with "[redacted]". Header names are lower-case in
 * Node, and API keys may appear in headers, bodies or query strings.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  '*.password',
  '*.apiKey',
  '*.secret',
  '*.token',
  '*.webhookSecret',
  'password',
  'apiKey',
  'secret',
  'token',
];

/** Creates the process logger: JSON lines on standard output with secrets redacted. */
export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'novart',
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}
