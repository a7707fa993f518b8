import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { launchChromium } from '../dashboard/browser.js';
import { countNonWhite, decodePng } from '../dashboard/pixels.js';
import { ingestWorkflowId } from '../../src/shared/grading-types.js';
import { buildGradescopeZip } from '../support/gradescope-zip.js';
import { writeZipFile } from '../support/publish.js';
import { waitFor } from '../support/wait-for.js';
import { runCli } from './support/run-cli.js';
import { freeUpPorts, killRecordedServices, spawnUp, type UpPorts, type UpProcess } from './support/spawn-up.js';

describe('greengrader up', () => {
  let dataDir: string;
  let ports: UpPorts;
  let up: UpProcess;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'gg-up-'));
    ports = await freeUpPorts();
    up = spawnUp(dataDir, ports);
  });

  after(async () => {
    await up.stop();
    await killRecordedServices(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts every service with an embedded broker, grades a submission, and stops on SIGINT', async () => {
    await up.waitUntilUp(45_000);
    const stdout = up.stdout();
    assert.match(
      stdout,
      new RegExp(`PostgreSQL\\s+postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${ports.postgres}/greengrader`),
    );
    assert.match(
      stdout,
      new RegExp(
        `MQTT broker\\s+mqtt://127\\.0\\.0\\.1:${ports.mqtt} \\(embedded, publisher gradescope, bridge greengrader\\)`,
      ),
    );
    assert.match(stdout, new RegExp(`Temporal\\s+127\\.0\\.0\\.1:${ports.temporal}\\n`));
    assert.match(stdout, new RegExp(`Temporal Web UI\\s+http://127\\.0\\.0\\.1:${ports.temporalUi}`));
    assert.match(stdout, new RegExp(`dashboard\\s+http://127\\.0\\.0\\.1:${ports.dashboard}\\n`));
    const page = await fetch(`http://127.0.0.1:${ports.dashboard}/api/runs`);
    assert.equal(page.status, 200);
    // The hook's line uses the publish-only login, never the bridge's.
    assert.match(stdout, /mosquitto_pub -h 127\.0\.0\.1 -p \d+ -u gradescope -P '[^']+' -t submissions -q 1/);
    // With no --region and no NODE_REGION, the node is in us-west (CAISO) and says where its figures come from.
    assert.match(stdout, /node worker\s+up-test-\w+ \(us-west\/local\)/);
    assert.match(stdout, /carbon\s+us-west → US-CAL-CISO, average intensity from trace \(trace:/);

    // The env file `up` writes is what the other commands need to reach its stack.
    const envFile = await readFile(path.join(dataDir, 'env'), 'utf8');
    const stackEnv = Object.fromEntries([...envFile.matchAll(/^(\w+)='(.*)'$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
    assert.equal(stackEnv.MQTT_URL, `mqtt://127.0.0.1:${ports.mqtt}`);

    // PostgreSQL asks every TCP login for the password `up` generated and keeps to itself (mode 600).
    const passwordFile = await stat(path.join(dataDir, 'postgres-password'));
    assert.equal(passwordFile.mode & 0o777, 0o600);
    const databaseUrl = new URL(stackEnv.DATABASE_URL ?? '');
    assert.ok(databaseUrl.password.length >= 20, 'the URL carries the generated password');
    databaseUrl.password = 'wrong';
    const intruder = new pg.Client({ connectionString: databaseUrl.toString() });
    await assert.rejects(intruder.connect(), /password authentication failed/);

    const zip = await writeZipFile(await buildGradescopeZip({ hostname: `10.8.${Date.now() % 250}.1\n` }));
    const refused = await runCli(['submit', zip.path], { ...stackEnv, MQTT_PUBLISHER_PASSWORD: 'wrong' });
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /\ngreengrader: cannot publish to mqtt:\/\/127\.0\.0\.1:\d+ as gradescope: .*Bad username or password\n$/,
    );

    const submitted = await runCli(['submit', zip.path], stackEnv);
    assert.equal(submitted.code, 0, submitted.stderr);
    const client = new pg.Client({ connectionString: stackEnv.DATABASE_URL });
    await client.connect();
    try {
      const run = await waitFor(
        async () => {
          const result = await client.query<{ state: string; score: number | null }>(
            'select state, score from grading_runs where workflow_id = $1',
            [ingestWorkflowId(zip.sha256)],
          );
          const row = result.rows[0];
          return row && ['completed', 'failed', 'rejected'].includes(row.state) ? row : undefined;
        },
        { description: 'the submitted zip to be graded', timeoutMs: 60_000, intervalMs: 250 },
      );
      assert.deepEqual(run, { state: 'completed', score: 10 });
      // The newcomer's first receipt carries grams, the immediate-home counterfactual and the saving.
      const receipt = await waitFor(
        async () => {
          const result = await client.query<{
            emissions: number | null;
            counterfactual: number | null;
            saving: number | null;
          }>(
            `select emissions_g_co2 as emissions, counterfactual_emissions_g_co2 as counterfactual, saving_g_co2 as saving
               from grading_runs where workflow_id = $1`,
            [ingestWorkflowId(zip.sha256)],
          );
          const row = result.rows[0];
          return row && row.emissions !== null ? row : undefined;
        },
        { description: 'the carbon receipt', timeoutMs: 30_000, intervalMs: 250 },
      );
      assert.ok(receipt.emissions !== null && receipt.emissions > 0, `emissions ${receipt.emissions}`);
      assert.ok(receipt.counterfactual !== null && receipt.counterfactual > 0);
      assert.ok(receipt.saving !== null);
    } finally {
      await client.end();
    }
    await assertDashboardChartDrawn(`http://127.0.0.1:${ports.dashboard}`, 'US-CAL-CISO');

    const stoppingAt = Date.now();
    up.child.kill('SIGINT');
    const code = await up.exited;
    const stderr = up.stderr();
    assert.equal(code, 0, stderr);
    assert.ok(Date.now() - stoppingAt < 30_000, 'stops within 30 s');
    assert.match(stderr, /stopped\.\n$/);
    for (const [name, port] of Object.entries({
      mqtt: ports.mqtt,
      postgres: ports.postgres,
      temporal: ports.temporal,
    })) {
      assert.equal(await refusesConnections(port), true, `${name} port ${port} is closed`);
    }
  });
});

/** The index page's intensity chart draws the node's zone; the screenshot stays in the temp folder to look at. */
async function assertDashboardChartDrawn(url: string, zone: string): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(url);
    const chart = page.locator('svg.intensity-chart');
    const zones = await Promise.all((await chart.locator('path.series').all()).map((s) => s.getAttribute('data-zone')));
    assert.ok(zones.includes(zone), `series ${zones.join(', ')}`);
    const png = await chart.screenshot({ path: path.join(tmpdir(), 'greengrader-up-chart.png') });
    const pixels = decodePng(png);
    assert.ok(countNonWhite(pixels) > pixels.width * pixels.height * 0.01, 'the chart is not blank');
    await page.screenshot({ path: path.join(tmpdir(), 'greengrader-up-dashboard.png'), fullPage: true });
  } finally {
    await browser.close();
  }
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}
