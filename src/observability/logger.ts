import { redactDatabaseError } from '../db/query-errors.js';

/** Structured JSON logs, one object per line, so operators can filter by submission or run. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export function createLogger(base: LogFields = {}, write: (line: string) => void = defaultWrite): Logger {
  const emit = (level: string, message: string, fields: LogFields = {}) => {
    write(JSON.stringify({ time: new Date().toISOString(), level, message, ...base, ...fields }, errorReplacer));
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (fields) => createLogger({ ...base, ...fields }, write),
  };
}

function defaultWrite(line: string): void {
  process.stderr.write(`${line}\n`);
}

// Errors have no enumerable fields: without this they would log as `{}`. Database errors lose their values first.
function errorReplacer(_key: string, value: unknown): unknown {
  const error = redactDatabaseError(value);
  if (error instanceof Error) return { name: error.name, message: error.message };
  return value;
}

/** Logs nothing: for tests that assert on behaviour, not on log lines. */
export const silentLogger: Logger = createLogger({}, () => undefined);
