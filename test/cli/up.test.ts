import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { freePort } from '../../src/services/free-port.js';
import { ingestWorkflowId } from '../../src/shared/grading-types.js';
import { buildGradescopeZip } from '../support/gradescope-zip.js';
import { requireEnv } from '../support/env.js';
import { writeZipFile } from '../support/publish.js';
import { waitFor } from '../support/wait-for.js';
import { runCli } from './support/run-cli.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** Services `up` would use instead of starting its own: this test wants its own. */
const GIVEN_SERVICES = ['DATABASE_URL', 'MQTT_URL', 'MQTT_USERNAME', 'MQTT_PASSWORD', 'TEMPORAL_ADDRESS'];

describe('greengrader up', () => {
  let dataDir: string;
  let up: ChildProcess;
  let stdout = '';
  let stderr = '';
  let exited: Promise<number | null>;
  const ports = { mqtt: 0, postgres: 0, temporal: 0, temporalUi: 0, dashboard: 0 };

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'gg-up-'));
    for (const name of Object.keys(ports) as (keyof typeof ports)[]) ports[name] = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GG_DATA_DIR: dataDir,
      AUTOGRADER_BASE_IMAGE: requireEnv('GG_TEST_BASE_IMAGE'),
      IMAGE_BUILD_NETWORK: 'none',
      NODE_NAME: `up-test-${randomUUID().slice(0, 8)}`,
      MAX_DELAY_SEC: '0',
      GRADER_TIMEOUT_SEC: '20',
      DASHBOARD_PORT: String(ports.dashboard),
    };
    for (const name of GIVEN_SERVICES) delete env[name];
    up = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', 'src/cli/main.ts', 'up'],
        ...['--mqtt-port', String(ports.mqtt), '--postgres-port', String(ports.postgres)],
        ...['--temporal-port', String(ports.temporal), '--temporal-ui-port', String(ports.temporalUi)],
      ],
      { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    up.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    up.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    exited = new Promise((resolve) => up.once('exit', (code) => resolve(code)));
  });

  after(async () => {
    if (up.exitCode === null && up.signalCode === null) {
      up.kill('SIGINT');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
      up.kill('SIGKILL');
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts every service with an embedded broker, grades a submission, and stops on SIGINT', async () => {
    await waitFor(() => stdout.includes('GreenGrader is up') || up.exitCode !== null, {
      description: '`up` to print where everything is',
      timeoutMs: 45_000,
      intervalMs: 200,
    });
    assert.equal(up.exitCode, null, `up exited early:\n${stderr}`);
    assert.match(stdout, new RegExp(`PostgreSQL\\s+postgres://postgres@127\\.0\\.0\\.1:${ports.postgres}/greengrader`));
    assert.match(
      stdout,
      new RegExp(`MQTT broker\\s+mqtt://127\\.0\\.0\\.1:${ports.mqtt} \\(embedded, user greengrader\\)`),
    );
    assert.match(stdout, new RegExp(`Temporal\\s+127\\.0\\.0\\.1:${ports.temporal}\\n`));
    assert.match(stdout, new RegExp(`Temporal Web UI\\s+http://127\\.0\\.0\\.1:${ports.temporalUi}`));
    assert.match(stdout, new RegExp(`dashboard\\s+http://127\\.0\\.0\\.1:${ports.dashboard}\\n`));
    const page = await fetch(`http://127.0.0.1:${ports.dashboard}/api/runs`);
    assert.equal(page.status, 200);
    assert.match(stdout, /mosquitto_pub -h 127\.0\.0\.1 -p \d+ -u greengrader -P '[^']+' -t submissions -q 1/);

    // The env file `up` writes is what the other commands need to reach its stack.
    const envFile = await readFile(path.join(dataDir, 'env'), 'utf8');
    const stackEnv = Object.fromEntries([...envFile.matchAll(/^(\w+)='(.*)'$/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));
    assert.equal(stackEnv.MQTT_URL, `mqtt://127.0.0.1:${ports.mqtt}`);

    const zip = await writeZipFile(await buildGradescopeZip({ hostname: `10.8.${Date.now() % 250}.1\n` }));
    const refused = await runCli(['submit', zip.path], { ...stackEnv, MQTT_PASSWORD: 'wrong' });
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /\ngreengrader: cannot publish to mqtt:\/\/127\.0\.0\.1:\d+ as greengrader: .*Bad username or password\n$/,
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
    up.kill('SIGINT');
    const code = await exited;
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
