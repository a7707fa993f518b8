import { Runtime } from '@temporalio/worker';
import type { Logger } from '../observability/logger.js';
import { createTemporalLogger } from '../observability/temporal-logger.js';

/**
 * Sends Temporal's own logs (worker lifecycle, workflow bundling, activity context loggers) through our
 * JSON logger. Must run before anything creates a worker or a native connection.
 */
export function installTemporalLogging(logger: Logger): void {
  Runtime.install({ logger: createTemporalLogger(logger) });
}
