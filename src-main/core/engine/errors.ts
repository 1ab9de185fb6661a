/**
 * The engine's one error type. `code` is a small fixed set (ARCHITECTURE.md rule 2) so hosts can map it to
 * a plain-words message; `message` is one line a user can act on.
 */
export type EngineErrorCode =
  | 'unreadable-image' // empty, truncated, not an image, unsupported format
  | 'image-too-large' // over the pixel limit
  | 'bad-model' // a model file that does not follow its contract
  | 'cancelled';

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
    this.code = code;
  }
}
