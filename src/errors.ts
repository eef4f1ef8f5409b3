/**
 * The error catalogue: every way a request can be refused, with its stable code and HTTP status.
 * The README's table lists the same codes; test/unit/docs-in-step.test.ts keeps the two in step.
 */
export const ERROR_CODES = {
  SIGNATURE_MISSING: 401,
  SIGNATURE_INVALID: 401,
  UNAUTHORIZED: 401,
  INVALID_JSON: 400,
  INVALID_PAYLOAD: 400,
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  QUEUE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  /** Path of the offending field, e.g. `data.orderId` (MORI's `errors.propertyName`). */
  readonly propertyName: string | undefined;

  constructor(code: ErrorCode, message: string, options: { propertyName?: string; cause?: unknown } = {}) {
    // A refusal (4xx) is an answer to the client, not a fault of ours: its stack is never logged,
    // and capturing one was 15 % of a forged request's CPU in a profile of a forged flood
    // (`npm run bench`). A 5xx keeps its stack for the log.
    const stackTraceLimit = Error.stackTraceLimit;
    if (ERROR_CODES[code] < 500) Error.stackTraceLimit = 0;
    super(message, { cause: options.cause });
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'AppError';
    this.code = code;
    this.statusCode = ERROR_CODES[code];
    this.propertyName = options.propertyName;
  }
}
