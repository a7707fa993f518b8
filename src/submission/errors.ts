/** Machine-readable reasons a submission is refused; stable strings, safe to store and match on. */
export type InvalidSubmissionReason =
  | 'not-a-zip'
  | 'truncated-zip'
  | 'corrupt-zip'
  | 'too-many-entries'
  | 'too-large-uncompressed'
  | 'path-traversal'
  | 'symlink'
  | 'special-file'
  /** Safe, but no filesystem can unpack it as it is: a name part over 255 bytes, a path both a file and a folder. */
  | 'unextractable-path'
  | 'missing-metadata'
  | 'invalid-metadata'
  | 'invalid-results'
  /** Parsed, but PostgreSQL refused one of its values (a data exception, SQLSTATE class 22). */
  | 'unstorable-data';

/**
 * Thrown when a submission zip, or a JSON file inside it, cannot be accepted as it is.
 * Retrying cannot fix it: callers should treat it as non-retryable.
 */
export class InvalidSubmissionError extends Error {
  override readonly name = 'InvalidSubmissionError';

  constructor(
    /** Why the submission was refused, for code to branch on. */
    readonly reason: InvalidSubmissionReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
