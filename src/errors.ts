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
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.statusCode = ERROR_CODES[code];
    this.propertyName = options.propertyName;
  }
}
