import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { loadRegionsConfig } from '../../src/carbon/regions.js';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/server.js';
import { zoneColour } from '../../src/dashboard/intensity-chart.js';
import { silentLogger } from '../../src/observability/logger.js';
import { ingestWorkflowId } from '../../src/shared/grading-types.js';
import { buildGradescopeZip, defaultMetadata, defaultResults } from '../support/gradescope-zip.js';
import { startGradingStack, type GradingStack, type RunRow } from '../support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';
import { scriptedProvider } from '../support/scripted-carbon.js';
import { launchChromium } from './browser.js';
import { countNear, countNonWhite, decodePng } from './pixels.js';

const WEST = 'US-CAL-CISO'; // region us-west in config/regions.json
const EAST = 'US-MIDA-PJM'; // region us-east, home
/** Where the screenshots stay after the run, for a person to look at. */
const SCREENSHOT_DIR = path.join(tmpdir(), 'greengrader-dashboard');

describe('dashboard', () => {
  let stack: GradingStack;
  let dashboard: RunningDashboard;
  let browser: Browser;
  let westNode: string;
  let eastNode: string;
  /** Set when the runs are submitted; until then the west is dirty. */
  let greenAt = Infinity;

  before(async () => {
    // West is dirty until `greenAt`, then clean; east (home) stays in between: runs wait, then go west.
    const provider = scriptedProvider('scripted', { [WEST]: (t) => (t < greenAt ? 500 : 50), [EAST]: () => 300 });
    stack = await startGradingStack({
      nodes: 0,
      carbonProviders: [provider],
      env: {
        PLACEMENT_POLICY: 'spatiotemporal',
        HOME_REGION: 'us-east',
        MAX_DELAY_SEC: '60',
        FORECAST_REFRESH_SEC: '30',
        CARBON_PROVIDERS: 'scripted',
      },
    });
    westNode = (await stack.startNode({ NODE_REGION: 'us-west' })).nodeName;
    eastNode = (await stack.startNode({ NODE_REGION: 'us-east' })).nodeName;
    dashboard = await startDashboard({
      db: stack.database.db,
      regions: await loadRegionsConfig(stack.config.REGIONS_FILE),
      carbonProviders: [provider],
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger,
      // Seconds-long runs on a seconds-long grid: a short margin keeps the switch to green visible.
      chart: { paddingMs: 20_000, maxPoints: 120 },
    });
    browser = await launchChromium();
    await mkdir(SCREENSHOT_DIR, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await dashboard?.stop();
    await stack?.stop();
  });

  it('shows an empty state before any run', async () => {
    const page = await browser.newPage();
    const response = await page.goto(dashboard.url);
    assert.equal(response?.status(), 200);
    assert.match(await page.locator('main').innerText(), /No runs yet/);
    assert.equal(await page.locator('svg.intensity-chart').count(), 0);
    const api = (await (await fetch(`${dashboard.url}/api/runs`)).json()) as { runs: unknown[] };
    assert.deepEqual(api.runs, []);
    await page.close();
  });

  it('lists graded runs with both scores, node, region and grams, and links each to its carbon receipt', async (t) => {
    // Gradescope gave the second one 7 where the re-run gives 10: the table flags the difference.
    greenAt = Date.now() + 6000;
    const [agreeing, disagreeing] = await Promise.all([
      submit(stack, { metadata: { ...defaultMetadata(), id: 5001 } }),
      submit(stack, { metadata: { ...defaultMetadata(), id: 5002 }, results: { ...defaultResults(), score: 7 } }),
    ]);
    // The carbon receipt is written just after the run is recorded as completed.
    const accounted = (run: RunRow) => run.state !== 'running' && run.carbonReceipt !== null;
    const runs = await Promise.all([agreeing, disagreeing].map((id) => stack.waitForRun(id, accounted, 50_000)));
    for (const run of runs) {
      assert.equal(run.outcome, 'graded');
      assert.equal(run.nodeName, westNode, 'both waited for the green hour in the west');
      assert.ok(run.emissionsGCo2 !== null && run.emissionsGCo2 > 0);
    }
    const [first, second] = runs as [RunRow, RunRow];

    const page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
    await page.goto(dashboard.url);
    const row = page.locator(`tr[data-run-id="${first.id}"]`);
    assert.equal((await row.locator('td.submission').innerText()).trim(), '5001');
    assert.equal(await row.locator('td.score').innerText(), '10 / 10.0');
    assert.equal(await row.locator('td.gradescope-score').innerText(), '10 / 10.0');
    assert.equal(await row.locator('td.node').innerText(), `${westNode} · us-west · ${WEST}`);
    assert.match(await row.locator('td.emissions').innerText(), /^[\d.e+-]+ (µg|mg|g)$/);
    assert.match(await row.locator('td.saving').innerText(), /\(83\.3 %\)/, 'saving 250 of 300 g/kWh');
    assert.match(await row.locator('td.delay').innerText(), /s$/);
    const flagged = page.locator(`tr[data-run-id="${second.id}"]`);
    assert.equal(await flagged.getAttribute('class'), 'mismatch');
    assert.equal(await flagged.locator('td.gradescope-score').innerText(), '7 / 10.0');

    // The chart: one step line per zone the plans weighed, and where each run was planned and started.
    const chart = page.locator('svg.intensity-chart');
    const series = await chart.locator('path.series').all();
    const zones = await Promise.all(series.map((line) => line.getAttribute('data-zone')));
    assert.deepEqual(new Set(zones), new Set([WEST, EAST]));
    assert.equal(await chart.locator(`g.marker-actual[data-run="${first.id}"]`).count(), 1);
    assert.equal(await chart.locator(`g.marker-planned[data-run="${first.id}"]`).count(), 1);
    const png = await chart.screenshot({ path: path.join(SCREENSHOT_DIR, 'chart.png') });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'runs-page.png'), fullPage: true });
    t.diagnostic(`screenshots in ${SCREENSHOT_DIR}`);
    const pixels = decodePng(png);
    assert.ok(countNonWhite(pixels) > pixels.width * pixels.height * 0.01, 'the chart is not blank');
    const order = zones.map((zone) => zone ?? '');
    for (const zone of [WEST, EAST]) {
      assert.ok(countNear(pixels, zoneColour(order.indexOf(zone))) > 50, `the ${zone} line is drawn`);
    }

    // The receipt of the first run.
    await row.locator('td.submission a').click();
    await page.waitForURL(`**/runs/${first.id}`);
    const receipt = page.locator('table.receipt');
    assert.match(await receipt.innerText(), /CPU/);
    assert.match(await receipt.innerText(), /Memory/);
    assert.match(
      await receipt.locator('tr.intensity').first().innerText(),
      /50 gCO₂\/kWh\s+average, source scripted:scripted/,
    );
    assert.match(await receipt.locator('tr.counterfactual').first().innerText(), /300 gCO₂\/kWh/);
    assert.match(await receipt.innerText(), /83\.3 % of what immediate-home would have emitted/);
    const text = await page.locator('main').innerText();
    assert.match(text, new RegExp(`${eastNode}\\s+us-east\\s+${EAST}\\s+\\d+\\s+home`), 'candidates with home marked');
    assert.match(text, /Forecast for the plan:\s+scripted: answered/);
    assert.match(text, /Intensity for the receipt:\s+scripted: answered/);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'receipt-page.png'), fullPage: true });
    await page.close();

    const detail = (await (await fetch(`${dashboard.url}/api/runs/${first.id}`)).json()) as Record<string, unknown>;
    assert.equal(detail.score, 10);
    assert.equal(detail.gradescopeSubmissionId, 5001);
    assert.equal((detail.receipt as { actual: { intensityGCo2PerKwh: number } }).actual.intensityGCo2PerKwh, 50);
  });

  it('answers 404 for unknown runs and ids that are not run ids', async () => {
    for (const id of ['00000000-0000-0000-0000-000000000000', 'not-a-uuid', '%3Cscript%3E']) {
      assert.equal((await fetch(`${dashboard.url}/runs/${id}`)).status, 404);
      assert.equal((await fetch(`${dashboard.url}/api/runs/${id}`)).status, 404);
    }
    assert.equal((await fetch(`${dashboard.url}/`, { method: 'POST' })).status, 405);
  });
});

async function submit(stack: GradingStack, options: Parameters<typeof buildGradescopeZip>[0]): Promise<string> {
  const file = await writeZipFile(await buildGradescopeZip(options));
  await mosquittoPub(brokerOf(stack.config), file.path);
  return ingestWorkflowId(file.sha256);
}
