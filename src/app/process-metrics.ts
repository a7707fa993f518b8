import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { startMetricsServer } from '../observability/metrics-server.js';
import type { CleanupStack } from './cleanup-stack.js';

/**
 * This process's Prometheus endpoint on METRICS_HOST:METRICS_PORT (0 turns it off), stopped by `cleanup`. A port
 * already taken (two processes on one host with the default) costs the metrics, never the process: it is logged.
 */
export async function startProcessMetrics(config: Config, logger: Logger, cleanup: CleanupStack): Promise<void> {
  if (config.METRICS_PORT === 0) return;
  try {
    const server = await startMetricsServer({ host: config.METRICS_HOST, port: config.METRICS_PORT });
    cleanup.push('metrics endpoint', () => server.stop());
    logger.info('metrics endpoint', { url: `${server.url}/metrics` });
  } catch (error) {
    logger.warn('metrics endpoint not started', { error, port: config.METRICS_PORT });
  }
}
