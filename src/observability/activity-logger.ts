import { Context } from '@temporalio/activity';
import { silentLogger, type LogFields, type Logger } from './logger.js';
import { fromTemporalLogger } from './temporal-logger.js';

/**
 * The current activity's logger with `fields` (the run or payload id) on every line. It writes through
 * Temporal's activity context logger, which adds workflowId (`grade-<sha256>`), activityType and attempt,
 * and goes to the Runtime's logger (JSON when the entry point installed `createTemporalLogger`).
 * Outside an activity (a direct call in a unit test) it logs nothing.
 */
export function activityLogger(fields: LogFields, outside: Logger = silentLogger): Logger {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return outside.child(fields);
  }
  return fromTemporalLogger(context.log, fields);
}
