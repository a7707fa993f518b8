// Public API of the submission library: pure functions over zip bytes, no I/O beyond memory.
export { InvalidSubmissionError } from './errors.js';
export { extractStoredFields } from './extract-stored-fields.js';
export { parseSubmission, readMetadata, unpackStoredSubmission } from './parse-submission.js';
export { readZipSafely } from './read-zip-safely.js';
export { parseResultsJson, scoreOf } from './results-schema.js';
