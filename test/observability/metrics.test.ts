import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPayloadAcceptor } from '../../src/bridge/accept-payload.js';
import { createPayloadBatcher } from '../../src/bridge/payload-batcher.js';
import { createLogger } from '../../src/observability/logger.js';
import { startMetricsServer } from '../../src/observability/metrics-server.js';
import type { RunningHttpServer } from '../../src/observability/http-listen.js';
import { ingestWorkflowId } from '../../src/shared/grading-types.js';
import { buildGradescopeZip } from '../support/gradescope-zip.js';
import { startGradingStack, type GradingStack, type RunRow } from '../support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';
import { scriptedProvider } from '../support/scripted-carbon.js';
import { emptyKeyring } from '../../src/submission/sealed-bytes.js';

const WEST = 'US-CAL-CISO';
const EAST = 'US-MIDA-PJM';

/** The value of one sample line of the Prometheus text format, e.g. `name{label="x"}`; undefined if absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics and logs', () => {
  let stack: GradingStack;
  let server: RunningHttpServer;
  let westNode: string;
  let graded: { sha256: string; zip: Uint8Array; run: RunRow };

  before(async () => {
    // West is clean and east (home) is not: runs go west at once and save 250 of 300 g/kWh.
    const provider = scriptedProvider('scripted', { [WEST]: () => 50, [EAST]: () => 300 });
    stack = await startGradingStack({
      nodes: 0,
      carbonProviders: [provider],
      env: { PLACEMENT_POLICY: 'spatial', HOME_REGION: 'us-east', CARBON_PROVIDERS: 'scripted' },
    });
    westNode = (await stack.startNode({ NODE_REGION: 'us-west' })).nodeName;
    await stack.startNode({ NODE_REGION: 'us-east' });
    server = await startMetricsServer({ host: '127.0.0.1', port: 0 });

    const zip = await buildGradescopeZip({ hostname: `metrics-${Date.now()}\n` });
    const file = await writeZipFile(zip);
    await mosquittoPub(brokerOf(stack.config), file.path);
    const run = await stack.waitForRun(
      ingestWorkflowId(file.sha256),
      (r) => r.state !== 'running' && r.carbonReceipt !== null,
      50_000,
    );
    graded = { sha256: file.sha256, zip, run };
  });

  after(async () => {
    await server?.stop();
    await stack?.stop();
  });

  it('counts received messages, started workflows, grading time, node load and grams after a graded run', async () => {
    assert.equal(graded.run.outcome, 'graded');
    assert.equal(graded.run.nodeName, westNode);
    const notZip = await writeZipFile(Buffer.from('not a zip at all'));
    await mosquittoPub(brokerOf(stack.config), notZip.path);

    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    let text = await response.text();
    const rejected = 'greengrader_messages_rejected_total{code="not-a-zip"}';
    for (let i = 0; i < 50 && (sample(text, rejected) ?? 0) < 1; i++) {
      // The broker hands the message to the bridge, which stores it, then counts it: not at once.
      await new Promise((resolve) => setTimeout(resolve, 100));
      text = await (await fetch(`${server.url}/metrics`)).text();
    }
    assert.equal(sample(text, 'greengrader_messages_received_total'), 2);
    assert.equal(sample(text, rejected), 1);
    assert.equal(sample(text, 'greengrader_messages_rejected_total{code="oversized"}'), 0);
    assert.equal(sample(text, 'greengrader_workflows_started_total'), 1);
    assert.equal(sample(text, 'greengrader_grading_duration_seconds_count{outcome="graded"}'), 1);
    assert.ok((sample(text, 'greengrader_grading_duration_seconds_sum{outcome="graded"}') ?? -1) >= 0);
    assert.equal(sample(text, `greengrader_node_capacity_runs{node="${westNode}"}`), 2);
    assert.equal(sample(text, `greengrader_node_active_runs{node="${westNode}"}`), 0, 'the run has finished');
    const emitted = sample(text, 'greengrader_emissions_grams_total{basis="average"}') ?? 0;
    const saved = sample(text, 'greengrader_saving_grams_total{basis="average"}') ?? 0;
    assert.ok(Math.abs(emitted - (graded.run.emissionsGCo2 ?? NaN)) < 1e-12, `${emitted} g emitted`);
    assert.ok(Math.abs(saved - (graded.run.savingGCo2 ?? NaN)) < 1e-12 && saved > 0, `${saved} g saved`);
    assert.equal(sample(text, 'greengrader_extra_emissions_grams_total{basis="average"}'), 0);
    assert.ok(sample(text, 'process_cpu_seconds_total') !== undefined, "Node's process metrics are included");

    assert.equal((await fetch(`${server.url}/other`)).status, 404);
  });

  it('writes bridge log lines as JSON, one object per line, each with the payload id', async () => {
    const lines: string[] = [];
    const accept = createPayloadAcceptor({
      db: stack.database.db,
      batcher: createPayloadBatcher({ db: stack.database.db, maxRows: 8, flushAfterMs: 1 }),
      maxPayloadBytes: stack.config.MAX_PAYLOAD_BYTES,
      keyring: emptyKeyring,
      quarantineRetentionDays: stack.config.QUARANTINE_RETENTION_DAYS,
      receiverIp: null,
      logger: createLogger({ process: 'bridge' }, (line) => lines.push(line)),
    });
    assert.equal(await accept('submissions', Buffer.from(graded.zip)), 'duplicate');
    assert.equal(await accept('submissions', Buffer.from('PK but not really')), 'rejected');
    assert.equal(lines.length, 2);
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(lines.every((line) => !line.includes('\n')));
    assert.equal(entries[0]?.sha256, graded.sha256);
    assert.equal(entries[0]?.level, 'info');
    assert.equal(entries[1]?.level, 'warn');
    assert.equal(entries[1]?.code, 'not-a-zip');
    assert.match(String(entries[1]?.sha256), /^[0-9a-f]{64}$/);
  });
});
