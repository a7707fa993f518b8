// Requests to replies: the pages and the JSON API. No HTTP plumbing here (see server.ts).
import type { CarbonProvider } from '../carbon/provider.js';
import type { RegionsConfig } from '../carbon/regions.js';
import type { Database } from '../db/client.js';
import { listRegradeBatches } from '../db/regrade-progress.js';
import { renderBatchesPage } from './batches-page.js';
import { buildChartData, type ChartOptions, type ChartRun } from './chart-data.js';
import { html } from './html.js';
import type { IntensitySampler } from './intensity-sampler.js';
import { layout } from './layout.js';
import { renderReceiptPage } from './receipt-page.js';
import { findRun, listRecentRuns } from './run-queries.js';
import { renderRunsPage } from './runs-page.js';

export interface Reply {
  status: number;
  contentType: string;
  body: string;
}

export interface RouteDeps {
  db: Database;
  regions: RegionsConfig;
  carbonProviders: readonly CarbonProvider[];
  sampler: IntensitySampler;
  runsLimit: number;
  /** Runs (newest first) whose zones and starts the index chart shows. */
  chartRuns: number;
  chart: ChartOptions;
  now: () => number;
}

const HTML = 'text/html; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

/** The reply for a GET of `path`; null when nothing lives there. */
export async function route(deps: RouteDeps, path: string): Promise<Reply | null> {
  if (path === '/') {
    const runs = await listRecentRuns(deps.db, deps.runsLimit);
    const chart = await chartFor(deps, plannedWithin(runs, deps.now() - PLANS_WINDOW_MS).slice(0, deps.chartRuns), {
      ...deps.chart,
      windowMs: PLANS_WINDOW_MS,
    });
    return { status: 200, contentType: HTML, body: renderRunsPage(runs, chart).value };
  }
  if (path === '/api/runs') {
    const runs = await listRecentRuns(deps.db, deps.runsLimit);
    return json(200, { runs });
  }
  if (path === '/batches') {
    const batches = await listRegradeBatches(deps.db, deps.runsLimit);
    return { status: 200, contentType: HTML, body: renderBatchesPage(batches).value };
  }
  if (path === '/api/batches') {
    return json(200, { batches: await listRegradeBatches(deps.db, deps.runsLimit) });
  }
  const page = /^\/runs\/([^/]+)$/.exec(path);
  if (page?.[1]) {
    const run = await findRun(deps.db, decodeURIComponent(page[1]));
    if (!run) return notFound(`No run ${page[1]}.`);
    return { status: 200, contentType: HTML, body: renderReceiptPage(run, await chartFor(deps, [run])).value };
  }
  const api = /^\/api\/runs\/([^/]+)$/.exec(path);
  if (api?.[1]) {
    const run = await findRun(deps.db, decodeURIComponent(api[1]));
    return run ? json(200, run) : json(404, { error: `no run ${api[1]}` });
  }
  return null;
}

export function notFound(message = 'Nothing here.'): Reply {
  return {
    status: 404,
    contentType: HTML,
    body: layout(
      'Not found',
      html`<h1>Not found</h1>
        <p>${message}</p>
        <p><a href="/">All runs</a></p>`,
    ).value,
  };
}

/** The index chart shows the plans of the last day: enough for a daily intensity cycle. */
const PLANS_WINDOW_MS = 24 * 3_600_000;

/** Runs that arrived, or are planned to start, at or after `sinceMs`. */
function plannedWithin<T extends ChartRun>(runs: readonly T[], sinceMs: number): T[] {
  return runs.filter((run) => Math.max(run.receivedAt.getTime(), run.plannedStartAt?.getTime() ?? 0) >= sinceMs);
}

function chartFor(deps: RouteDeps, runs: readonly ChartRun[], options: ChartOptions = deps.chart) {
  return buildChartData({
    runs,
    providers: deps.carbonProviders,
    sampler: deps.sampler,
    regions: deps.regions,
    nowMs: deps.now(),
    options,
  });
}

function json(status: number, value: unknown): Reply {
  return { status, contentType: JSON_TYPE, body: `${JSON.stringify(value, null, 2)}\n` };
}
