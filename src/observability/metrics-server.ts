import { createServer } from 'node:http';
import { collectDefaultMetrics, type Registry } from 'prom-client';
import { listen, type RunningHttpServer } from './http-listen.js';
import { metrics } from './metrics.js';

export interface MetricsServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Default: this process's registry (`metrics.registry`). */
  registry?: Registry;
}

const withDefaults = new WeakSet<Registry>();

/**
 * Serves the registry at `GET /metrics` in Prometheus text format, with Node's process metrics
 * (CPU, memory, event-loop lag) added once per registry.
 */
export function startMetricsServer(options: MetricsServerOptions): Promise<RunningHttpServer> {
  const registry = options.registry ?? metrics.registry;
  if (!withDefaults.has(registry)) {
    collectDefaultMetrics({ register: registry });
    withDefaults.add(registry);
  }
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://metrics').pathname;
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': registry.contentType });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(`metrics collection failed: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    );
  });
  return listen(server, options.host, options.port);
}
