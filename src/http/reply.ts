import { throttledWarning } from '../throttled-warning.js';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../errors.js';

/** MORI's own envelope (docs/interface.md): success bodies carry `data`, failures `code` and `errors`. */
export interface SuccessBody<T> {
  success: true;
  message: string;
  data: T;
}

export interface ErrorBody {
  success: false;
  message: string;
  code: ErrorCode;
  errors: { message: string; propertyName: string | null };
}

export function ok<T>(message: string, data: T): SuccessBody<T> {
  return { success: true, message, data };
}

export function errorBody(err: AppError): ErrorBody {
  return {
    success: false,
    message: err.message,
    code: err.code,
    errors: { message: err.message, propertyName: err.propertyName ?? null },
  };
}

/** Fastify's own errors that are really the client's, mapped into our catalogue. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
};

function toAppError(err: FastifyError | Error): AppError {
  if (err instanceof AppError) return err;
  const code = 'code' in err && typeof err.code === 'string' ? FASTIFY_CODES[err.code] : undefined;
  if (code === 'BODY_TOO_LARGE') return new AppError(code, 'the body is larger than the limit', { cause: err });
  if (code === 'UNSUPPORTED_MEDIA_TYPE')
    return new AppError(code, 'Content-Type must be application/json', { cause: err });
  if (code === 'BAD_REQUEST') return new AppError(code, 'the URL is malformed (a bad %-escape)', { cause: err });
  if (code) return new AppError(code, err.message, { cause: err });
  // Any other error Fastify itself marks as the client's stays a 400, never a 500.
  const status = (err as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError('BAD_REQUEST', 'the request is malformed', { cause: err });
  }
  return new AppError('INTERNAL_ERROR', 'internal error', { cause: err });
}

/** For Fastify's `frameworkErrors`: errors raised before routing (a malformed URL) get the envelope too. */
export function frameworkErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const appError = toAppError(err);
  request.rejection = appError;
  void reply.code(appError.statusCode).send(errorBody(appError));
}

/** One error handler for the whole server: every refusal leaves in MORI's envelope with a stable code. */
export function installErrorHandling(app: FastifyInstance): void {
  // Declared up front (Fastify, "Decorators"): every request has the same shape from the start.
  app.decorateRequest('rejection', undefined);
  // A 503 means MORI must retry: its cause (Redis away, a failover, replicas behind) is logged,
  // once per interval with a count, since an outage makes every request fail the same way.
  const unavailable = throttledWarning(
    app.log,
    { code: 'QUEUE_UNAVAILABLE' },
    'answered 503: the queue is unavailable',
  );
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const appError = toAppError(err);
    if (appError.code === 'INTERNAL_ERROR') request.log.error({ err }, 'unhandled error');
    if (appError.code === 'QUEUE_UNAVAILABLE') unavailable(appError.cause ?? appError);
    request.rejection = appError;
    return reply.code(appError.statusCode).send(errorBody(appError));
  });
  app.setNotFoundHandler((request, reply) => {
    // The path is the client's text: cut it short, and never echo a query string (tokens live there).
    const err = new AppError('NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`);
    return reply.code(err.statusCode).send(errorBody(err));
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request is refused, so the per-request log line and metrics can name the reason. */
    rejection?: AppError;
  }
}
