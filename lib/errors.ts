/**
 * The error vocabulary of the product: one list of stable codes, each bound to
 * an HTTP status. Clients and the web app key their messages on `code`.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  INVALID_TOKEN: 400,
  WEAK_PASSWORD: 400,
  REDEMPTION_CODE_MALFORMED: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  INSUFFICIENT_FUNDS: 402,
  FORBIDDEN: 403,
  ACCOUNT_BANNED: 403,
  EMAIL_NOT_VERIFIED: 403,
  CSRF_FAILED: 403,
  NOT_FOUND: 404,
  REDEMPTION_CODE_UNKNOWN: 404,
  INVITE_CODE_UNKNOWN: 404,
  CONFLICT: 409,
  REDEMPTION_CODE_ALREADY_REDEEMED: 409,
  REFERRAL_ALREADY_RECORDED: 409,
  GONE: 410,
  REDEMPTION_CODE_EXPIRED: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  PROMPT_BLOCKED: 422,
  WEBHOOK_URL_REJECTED: 422,
  SELF_REFERRAL: 422,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  INTERNAL: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** An expected failure with a stable code; the error middleware turns it into the JSON envelope. */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_STATUS[code];
  }
}

/** Builds an AppError; the single place where a code meets its HTTP status. */
export function appError(code: ErrorCode, message: string, details?: Record<string, unknown>): AppError {
  return new AppError(code, message, details);
}

/** The JSON body of every error response. */
export interface ErrorEnvelope {
  error: {
    code: ErrorCode;
    message: string;
    requestId: string;
    details?: Record<string, unknown>;
  };
}
