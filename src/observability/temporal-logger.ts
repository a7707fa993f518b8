// Temporal's logs (worker lifecycle, activity and workflow context loggers, the Rust core) as our JSON lines.
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { LogFields, Logger } from './logger.js';

const LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** Per-task noise: a long opaque token on every activity line that no operator searches by. */
const DROPPED_KEYS = new Set(['taskToken']);

/**
 * A Temporal `Logger` that writes through ours, for `Runtime.install({ logger })` in each entry point:
 * lines below `minLevel` are dropped; activity lines keep Temporal's ids (workflowId, activityType, attempt).
 */
export function createTemporalLogger(logger: Logger, minLevel: LogLevel = 'INFO'): TemporalLogger {
  const threshold = LEVELS.indexOf(minLevel);
  const log = (level: LogLevel, message: string, meta: LogMetadata = {}) => {
    if (LEVELS.indexOf(level) < threshold) return;
    const fields = plainFields(meta);
    if (level === 'ERROR') logger.error(message, fields);
    else if (level === 'WARN') logger.warn(message, fields);
    else if (level === 'INFO') logger.info(message, fields);
    else logger.debug(message, fields);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

/** Our logger over a Temporal one (e.g. an activity's context logger), with fixed fields on every line. */
export function fromTemporalLogger(target: TemporalLogger, base: LogFields = {}): Logger {
  return {
    debug: (message, fields) => void target.debug(message, { ...base, ...fields }),
    info: (message, fields) => void target.info(message, { ...base, ...fields }),
    warn: (message, fields) => void target.warn(message, { ...base, ...fields }),
    error: (message, fields) => void target.error(message, { ...base, ...fields }),
    child: (fields) => fromTemporalLogger(target, { ...base, ...fields }),
  };
}

// Symbol keys (Temporal's timestamp marker) do not survive JSON anyway; dropped keys are noise.
function plainFields(meta: LogMetadata): LogFields {
  return Object.fromEntries(Object.entries(meta).filter(([key]) => !DROPPED_KEYS.has(key)));
}
