// Structured JSON logs (pino). One line per request with its id, operation name, actor, status and
// duration. What is never logged: tokens or any header value, variables, SQL parameters, error messages
// of unexpected errors (a database error can quote a value); redaction below is a second line of defence.
import { randomUUID } from 'node:crypto';
import { pino, type DestinationStream, type Logger } from 'pino';
import { domainErrorOf } from '../errors.js';

export type { Logger };

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'transfer-registry' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'headers',
          '*.headers',
          'variables',
          '*.variables',
          'password',
          'secret',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  ); // synchronous: nothing lost at process.exit
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's X-Request-Id when it is a plain identifier, otherwise a fresh one. */
export function requestIdOf(request: Request): string {
  const given = request.headers.get('x-request-id');
  return given && REQUEST_ID.test(given) ? given : randomUUID();
}

/** What may be logged of an unexpected error: its class and, for a database error, its SQLSTATE. */
export function errorSummary(e: unknown): { errorType: string; sqlState?: string } {
  const err = (e as { originalError?: unknown })?.originalError ?? e;
  const cause = (err as { cause?: unknown })?.cause;
  const code = (err as { code?: unknown })?.code ?? (cause as { code?: unknown })?.code;
  return {
    errorType: (err as object)?.constructor?.name ?? typeof err,
    ...(typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? { sqlState: code } : {}),
  };
}

/**
 * Yoga's own log calls (it logs unexpected errors with their SQL): only the summary reaches our log. Yoga also
 * reports every error we turn into a coded answer, expected ones included: a VALIDATION_FAILED thrown by a resolver
 * is no error of the service, only debug here (the request's line carries its code).
 */
export function yogaLogger(logger: Logger) {
  const errorOf = (args: unknown[]) => args.find((a) => a instanceof Error) ?? args[0];
  const summarize = (args: unknown[]) => ({ source: 'yoga', ...errorSummary(errorOf(args)) });
  return {
    debug: () => {},
    info: () => {},
    warn: (...args: unknown[]) => logger.warn(summarize(args), 'yoga warning'),
    error: (...args: unknown[]) => {
      const expected = domainErrorOf(errorOf(args));
      if (expected) logger.debug({ source: 'yoga', code: expected.code }, 'expected error');
      else logger.error(summarize(args), 'unexpected error');
    },
  };
}
