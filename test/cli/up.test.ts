import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
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
    assert.match(stdout, new RegExp(`PostgreSQL\\s+postgres://postgres@127\\.0\\.0\\.1:${ports.postgres}/greengrader`));
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

    // The env file `up` writes is what the other commands need to reach its stack.
    const envFile = await readFile(path.join(dataDir, 'env'), 'utf8');
    const stackEnv = Object.fromEntries([...envFile.matchAll(/^(\w+)='(.*)'$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
    assert.equal(stackEnv.MQTT_URL, `mqtt://127.0.0.1:${ports.mqtt}`);

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
    } finally {
      await client.end();
    }

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
