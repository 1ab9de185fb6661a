/**
 * The errors a host can receive, from a small fixed set (ARCHITECTURE.md rule 2). `message` is one line a
 * user can act on; `code` lets a host choose how to show it.
 */
export const ERROR_CODES = [
  'INVALID_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'MODEL_MISSING',
  'MODEL_CORRUPT',
  'PROVIDER_UNAVAILABLE',
  'CANCELLED',
  'IO',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ApiError {
  readonly code: ErrorCode;
  readonly message: string;
}

/** What the core throws for an expected failure; hosts send `{code, message}` and nothing else. */
export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** Any thrown value as `{code, message}`: AppErrors as they are, anything else INTERNAL with its first line. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof AppError) return { code: error.code, message: error.message };
  const text = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message: text.split('\n')[0] || 'internal error' };
}
