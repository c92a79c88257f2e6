import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { AppError, type ErrorCode, type ErrorEnvelope } from '../../lib/errors';

/** Answers 404 in the error envelope for any route no router handled. */
export const notFoundHandler: RequestHandler = (request, _response, next) => {
  next(new AppError('NOT_FOUND', `No route for ${request.method} ${request.path}`));
};

/**
 * Turns every error into the JSON envelope. Expected errors keep their code and
 * are logged as warnings; anything else becomes a generic 500 whose detail goes
 * only to the log.
 */
export const errorHandler: ErrorRequestHandler = (error: unknown, request, response, next) => {
  if (response.headersSent) {
    next(error);
    return;
  }

  const appError = toAppError(error);
  const requestId = String(request.id ?? '');
  if (appError) {
    request.log?.warn({ code: appError.code, requestId }, appError.message);
  } else {
    request.log?.error({ err: error, requestId }, 'unhandled error');
  }

  const failure = appError ?? new AppError('INTERNAL', 'Internal server error');
  const body: ErrorEnvelope = {
    error: {
      code: failure.code,
      message: failure.message,
      requestId,
      ...(failure.details ? { details: failure.details } : {}),
    },
  };
  if (failure.status === 429 && typeof failure.details?.retryAfterSeconds === 'number') {
    response.setHeader('Retry-After', String(failure.details.retryAfterSeconds));
  }
  response.status(failure.status).json(body);
};

/** Maps known error shapes (ours, zod's, body-parser's) to an AppError; unknown errors map to undefined. */
function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;

  if (error instanceof ZodError) {
    return new AppError('VALIDATION_FAILED', 'The request is invalid', {
      issues: error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    });
  }

  const bodyParserCodes: Record<string, [ErrorCode, string]> = {
    'entity.parse.failed': ['INVALID_JSON', 'The request body is not valid JSON'],
    'entity.too.large': ['PAYLOAD_TOO_LARGE', 'The request body is too large'],
    'encoding.unsupported': ['UNSUPPORTED_MEDIA_TYPE', 'The request body encoding is not supported'],
    'charset.unsupported': ['UNSUPPORTED_MEDIA_TYPE', 'The request body charset is not supported'],
    'request.aborted': ['VALIDATION_FAILED', 'The request body was not received completely'],
  };
  const type = (error as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && type in bodyParserCodes) {
    const [code, message] = bodyParserCodes[type]!;
    return new AppError(code, message);
  }
  return undefined;
}
