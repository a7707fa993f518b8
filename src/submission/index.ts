// Public API of the submission library: pure functions over zip bytes, no I/O beyond memory.
export {
  anonymiseEntries,
  anonymiseMetadataJson,
  PLACEHOLDER_EMAIL,
  PLACEHOLDER_NAME,
  PLACEHOLDER_SID,
  type AnonymisationReport,
  type AnonymisedEntries,
  type AnonymiseOptions,
} from './anonymise.js';
export { INVALID_SUBMISSION_REASONS, InvalidSubmissionError, type InvalidSubmissionReason } from './errors.js';
export {
  extractStoredFields,
  type StoredOutlineItem,
  type StoredSubmissionFields,
  type StudentAssignmentDates,
} from './extract-stored-fields.js';
export {
  submissionMetadataSchema,
  type OutlineItem,
  type SubmissionMetadata,
  type SubmissionMetadataInput,
  type SubmissionUser,
} from './metadata-schema.js';
export {
  parseSubmission,
  readMetadata,
  type ParsedSubmission,
  type ParseSubmissionOptions,
} from './parse-submission.js';
export { readZipSafely, type ZipEntries, type ZipLimits } from './read-zip-safely.js';
export { parseResultsJson, resultsSchema, scoreOf, type ParsedResults, type ResultTest } from './results-schema.js';
export { type StudentIdentity } from './scrub-text.js';
export { hashFiles } from './source-hash.js';
export { FIXED_ZIP_DATE, writeZip, type WriteZipOptions } from './write-zip.js';
