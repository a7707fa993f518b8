// The dashboard's HTTP server (node:http, no framework): read-only pages and JSON over the run rows.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { CarbonProvider } from '../carbon/provider.js';
import type { RegionsConfig } from '../carbon/regions.js';
import type { Database } from '../db/client.js';
import { listen, type RunningHttpServer } from '../observability/http-listen.js';
import type { Logger } from '../observability/logger.js';
import type { ChartOptions } from './chart-data.js';
import { createIntensitySampler } from './intensity-sampler.js';
import { notFound, route, type Reply } from './routes.js';

export interface DashboardOptions {
  db: Database;
  regions: RegionsConfig;
  /** Past intensity for the chart comes from the first of these that answers (as configured). */
  carbonProviders: readonly CarbonProvider[];
  /** No authentication: bind to 127.0.0.1 unless a proxy in front of it checks who asks. */
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  logger: Logger;
  /** Runs listed on `/` and `/api/runs`, newest first; default 100. */
  runsLimit?: number;
  /** Newest runs drawn on the index chart; default 50. */
  chartRuns?: number;
  chart?: ChartOptions;
}

export type RunningDashboard = RunningHttpServer;

// Pages carry inline styles and inline SVG only: nothing loads from anywhere, no script runs.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** Serves `/`, `/runs/:id`, `/api/runs` and `/api/runs/:id` until `stop()`. */
export function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const log = options.logger.child({ component: 'dashboard' });
  const deps = {
    db: options.db,
    regions: options.regions,
    carbonProviders: options.carbonProviders,
    sampler: createIntensitySampler(),
    runsLimit: options.runsLimit ?? 100,
    chartRuns: options.chartRuns ?? 50,
    chart: options.chart ?? {},
    now: Date.now,
  };
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log.error('dashboard request failed', { error, method: request.method, url: request.url });
      if (!response.headersSent) send(response, request, { status: 500, contentType: 'text/plain', body: 'error\n' });
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', ...SECURITY_HEADERS }).end();
      return;
    }
    const path = new URL(request.url ?? '/', 'http://dashboard').pathname;
    if (path === '/favicon.ico') {
      response.writeHead(204, SECURITY_HEADERS).end();
      return;
    }
    send(response, request, (await route(deps, path)) ?? notFound());
  }

  return listen(server, options.host, options.port);
}

function send(response: ServerResponse, request: IncomingMessage, reply: Reply): void {
  response.writeHead(reply.status, {
    'content-type': reply.contentType,
    'content-length': Buffer.byteLength(reply.body),
    ...SECURITY_HEADERS,
  });
  response.end(request.method === 'HEAD' ? undefined : reply.body);
}
