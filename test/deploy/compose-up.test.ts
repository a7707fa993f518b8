import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { inArray } from 'drizzle-orm';
import pg from 'pg';
import { connectDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { gradingRuns } from '../../src/db/schema.js';
import { runCommand } from '../../src/services/run-command.js';
import type { GradingStatus } from '../../src/shared/grading-types.js';
import { buildGradescopeZip } from '../support/gradescope-zip.js';
import { mosquittoPub, writeZipFile } from '../support/publish.js';
import { waitFor } from '../support/wait-for.js';
import { composeServices, prepareComposeStack, type ComposeEndpoints, type ComposeStack } from './compose-stack.js';
import { writeDipTrace } from './dip-trace.js';
import { requireEnvValue } from './env-file.js';
import { failureNotes } from './failure-notes.js';
import { publishUntilAccepted, waitForBridgeSubscribed, waitForFinalRuns } from './stack-runs.js';
import { timerEvents } from './timer-events.js';

/**
 * How long after the carbon trace is written its clean window opens, i.e. how long the waiting run sleeps, in units
 * of the settings change measured just before (orchestrator and node recreated until a submission is graded): the
 * restart that loads the trace, the upgrade and the start of the backup each (re)start and boot the workers like it,
 * and the backup must catch the run still waiting. Measured rather than fixed, the lead stays short on a quiet host
 * and grows on a loaded one. A timer due while the stack is down for the restore fires when the restored Temporal
 * starts, so what the lead has over the backup is spent during the restore, not waited out after it.
 */
const WAIT_LEAD_PER_SETTLE = 3;
/** Added to the lead: the publish, the planning and the checks between the steps (a few compose calls). */
const WAIT_LEAD_MARGIN_MS = 30_000;
/** deploy/README.md's examples use us-west; config/regions.json maps it to this carbon zone. */
const WAIT_REGION = { region: 'us-west', zone: 'US-CAL-CISO' } as const;

/** Restarted one after another while submissions keep coming (issue 13). */
const restartOrder = ['mosquitto', 'postgres', 'temporal', 'orchestrator', 'node'] as const;

// Cold: stand-in images (apt), greengrader's image (npm ci) and possibly the Temporal server (go build).
describe('docker-compose.yml, up for real on stand-in images', { timeout: 90 * 60_000 }, () => {
  let stack: ComposeStack | undefined;
  let endpoints: ComposeEndpoints | undefined;
  let database: DatabaseHandle | undefined;
  let temporal: { connection: Connection; client: Client } | undefined;
  /** Submissions graded before the backup: the restore must keep them listed. */
  const gradedBeforeBackup: string[] = [];
  /** The run that waits on a durable timer through the upgrade and the backup, and when its start was planned. */
  let waiting: { workflowId: string; startMs: number; upgradedAt: number } | undefined;
  const notes = failureNotes();
  const noting = notes.noting;

  before(async () => {
    const prepared = (stack = await prepareComposeStack());
    const up = (endpoints = await noting(() => prepared.up())(undefined));
    database = connectDatabase(up.databaseUrl, { maxConnections: 2 });
    const connection = await Connection.connect({ address: up.temporalAddress });
    temporal = { connection, client: new Client({ connection, namespace: 'default' }) };
  });
  after(async () => {
    if (notes.failed && stack) await printLogs(stack);
    await temporal?.connection.close();
    await database?.close();
    await stack?.down();
  });

  /** Publishes a zip of its own (a distinct hostname.txt). */
  async function publish(label: string): Promise<string> {
    assert.ok(endpoints);
    return publishUntilAccepted(
      endpoints.publisher,
      await buildGradescopeZip({ hostname: `compose-${label}\n` }),
      label,
    );
  }

  async function finalRuns(workflowIds: string[]) {
    assert.ok(database);
    return database.db.select().from(gradingRuns).where(inArray(gradingRuns.workflowId, workflowIds));
  }

  function waitForGraded(workflowIds: string[], timeoutMs: number) {
    assert.ok(database);
    return waitForFinalRuns(database, workflowIds, timeoutMs);
  }

  it(
    'brings every service up: the long-running ones healthy or running, the one-shot setup ones exited 0',
    noting(async (t: TestContext) => {
      assert.ok(stack);
      t.diagnostic(
        `stand-ins: ${stack.standIns.map((s) => `${s.tag} ${s.status} ${s.seconds.toFixed(1)}s`).join(', ')}`,
      );
      const state = async (service: string) => {
        const id = await stack?.project.containerId(service);
        assert.ok(id, `${service} has a container`);
        const format = '{{.State.Status}} {{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{end}}';
        return (await runCommand('docker', ['inspect', '--format', format, id])).stdout.trim();
      };
      for (const service of ['postgres', 'temporal', 'mosquitto'])
        assert.equal(await state(service), 'running 0 healthy');
      for (const service of ['temporal-schema', 'temporal-namespace']) assert.equal(await state(service), 'exited 0');
      for (const service of ['bridge', 'orchestrator', 'node']) assert.equal(await state(service), 'running 0');
    }),
  );

  it(
    'grades a zip published with the hook’s login, through Temporal persisted in PostgreSQL',
    noting(async () => {
      assert.ok(stack && temporal && endpoints);
      // Minutes on a loaded host: the three GreenGrader processes compile their TypeScript at start (tsx).
      await waitForBridgeSubscribed(stack, 300_000);
      const workflowId = await publish('first');
      gradedBeforeBackup.push(workflowId);
      const [run] = await waitForGraded([workflowId], 180_000);
      assert.equal(run?.state, 'completed', run?.failureReason ?? '');
      assert.equal(run.outcome, 'graded');
      assert.equal(run.score, 10);

      const handle = temporal.client.workflow.getHandle(workflowId);
      await handle.result();
      assert.equal((await handle.describe()).status.name, 'COMPLETED');
      // The closed workflow is a row in Temporal's PostgreSQL visibility database (2 = completed), not in SQLite.
      const visibility = new pg.Client({ connectionString: endpoints.temporalVisibilityUrl });
      await visibility.connect();
      try {
        const rows = await waitFor(
          async () => {
            const result = await visibility.query<{ status: number }>(
              'SELECT status FROM executions_visibility WHERE workflow_id = $1',
              [workflowId],
            );
            return result.rows[0]?.status === 2 ? result.rows : undefined;
          },
          { description: `${workflowId} closed in temporal_visibility`, timeoutMs: 30_000, intervalMs: 500 },
        );
        assert.equal(rows.length, 1);
      } finally {
        await visibility.end();
      }
    }),
  );

  it(
    'loses no submission while the broker, PostgreSQL, Temporal, the orchestrator and the node restart in turn',
    noting(async (t: TestContext) => {
      assert.ok(stack);
      const project = stack.project;
      const workflowIds: string[] = [];
      for (const service of restartOrder) {
        const startedAt = Date.now();
        workflowIds.push(await publish(`${service}-before`));
        // One publish races the restart: it lands before, during (retried until accepted) or just after it.
        const [, during] = await Promise.all([
          project.run(['restart', service], 180_000),
          publish(`${service}-during`),
        ]);
        workflowIds.push(during, await publish(`${service}-after`));
        t.diagnostic(`${service}: restarted with 3 publishes in ${String(Date.now() - startedAt)} ms`);
      }
      const runs = await waitForGraded(workflowIds, 300_000);
      assert.equal(new Set(runs.map((run) => run.workflowId)).size, workflowIds.length, 'one run per submission');
      for (const run of runs) {
        assert.equal(run.state, 'completed', `${run.workflowId}: ${run.failureReason ?? ''}`);
        assert.equal(run.outcome, 'graded', run.workflowId);
      }
      gradedBeforeBackup.push(...workflowIds);
    }),
  );

  it(
    'rotates the hook’s password: after the broker’s reload the old one is refused and the new one publishes',
    noting(async () => {
      assert.ok(stack && endpoints);
      const old = endpoints.publisher;
      await stack.ops('make-secrets.sh', ['--rotate', 'MQTT_PUBLISHER_PASSWORD'], 5 * 60_000);
      await stack.project.run(['kill', '-s', 'HUP', 'mosquitto'], 60_000);
      const rotated = { ...old, password: await requireEnvValue(stack.envFile, 'MQTT_PUBLISHER_PASSWORD') };
      assert.notEqual(rotated.password, old.password);
      const probe = await writeZipFile(await buildGradescopeZip({ hostname: 'compose-old-password\n' }));
      // The reload is asynchronous: the old password works until Mosquitto has read the new file.
      await waitFor(
        () =>
          mosquittoPub(old, probe.path).then(
            () => false,
            () => true,
          ),
        { description: 'the broker refusing the old publisher password', timeoutMs: 30_000, intervalMs: 500 },
      );
      endpoints = { ...endpoints, publisher: rotated };
      const workflowId = await publish('new-password');
      const [run] = await waitForGraded([workflowId], 180_000);
      assert.equal(run?.outcome, 'graded', run?.failureReason ?? '');
      gradedBeforeBackup.push(workflowId);
    }),
  );

  it(
    'upgrades the orchestrator and the node under a run waiting on a durable timer (deploy/README.md "Upgrading")',
    noting(async (t: TestContext) => {
      assert.ok(stack && temporal);
      const project = stack.project;
      // The new release is built ahead: a build changes nothing that runs, the upgrade under the run recreates.
      let stepAt = Date.now();
      await stack.buildRelease('r2');
      t.diagnostic(`release r2 built ahead in ${String(Date.now() - stepAt)} ms`);

      // A settings change is `up -d` of the services it touches: compose recreates them with the new .env.
      await stack.setEnv({
        CARBON_PROVIDERS: 'trace',
        PLACEMENT_POLICY: 'temporal',
        HOME_REGION: WAIT_REGION.region,
        NODE_REGION: WAIT_REGION.region,
        MAX_DELAY_SEC: 21_600,
      });
      stepAt = Date.now();
      await project.run(['up', '-d', 'orchestrator', 'node'], 300_000);
      // Settled once a submission is graded on them (no trace yet: carbon-agnostic, at once).
      const settled = await publish('settled');
      const [probe] = await waitForGraded([settled], 300_000);
      assert.equal(probe?.outcome, 'graded', probe?.failureReason ?? '');
      gradedBeforeBackup.push(settled);
      const settleMs = Date.now() - stepAt;
      t.diagnostic(`settings applied (orchestrator, node recreated, a submission graded) in ${String(settleMs)} ms`);

      const leadMs = WAIT_LEAD_PER_SETTLE * settleMs + WAIT_LEAD_MARGIN_MS;
      const startMs = await writeDipTrace(stack.traceDir, WAIT_REGION.zone, Date.now(), leadMs);
      t.diagnostic(`the clean window opens in ${String(startMs - Date.now())} ms`);
      // The orchestrator reads the trace folder when it starts.
      await project.run(['restart', 'orchestrator'], 180_000);

      const workflowId = await publish('waits');
      const handle = temporal.client.workflow.getHandle(workflowId);
      const waitingStatus = () =>
        waitFor(
          async () => {
            const status = await handle.query<GradingStatus>('gradingStatus');
            return status.state === 'waiting' ? status : undefined;
          },
          // The orchestrator answers once it has booted again: as long as the settings change took, or longer.
          {
            description: `${workflowId} waiting for its planned start`,
            timeoutMs: Math.max(120_000, 2 * settleMs),
            intervalMs: 1_000,
          },
        );
      const planned = await waitingStatus();
      assert.equal(planned.policy, 'temporal');
      assert.equal(planned.plannedStartAt, new Date(startMs).toISOString(), 'planned at the clean window');

      // The operator's upgrade: a new build under a new tag (its layers cached above), both workers recreated on it.
      stepAt = Date.now();
      await stack.setRelease('r2');
      await project.run(['up', '-d', '--build', '--force-recreate', 'orchestrator', 'node'], 20 * 60_000);
      const upgradedAt = Date.now();
      t.diagnostic(`orchestrator and node rebuilt and recreated in ${String(upgradedAt - stepAt)} ms`);
      for (const service of ['orchestrator', 'node']) {
        const id = await project.containerId(service);
        assert.ok(id, `${service} has a container`);
        const format = '{{.Config.Image}} {{index .Config.Labels "org.greengrader.test-release"}}';
        const image = (await runCommand('docker', ['inspect', '--format', format, id])).stdout.trim();
        assert.equal(image, 'greengrader:0.1.0-r2 r2', `${service} runs the new build`);
      }
      // The new orchestrator replays the run's history to answer: same plan, same timer, nothing run yet.
      const replayed = await waitingStatus();
      assert.equal(replayed.plannedStartAt, planned.plannedStartAt);
      assert.equal((await finalRuns([workflowId]))[0]?.placedAt ?? null, null, 'not started early');
      const timers = await timerEvents(temporal.client, workflowId);
      assert.equal(timers.firedAt.length, 0, 'its timer has not fired yet');
      waiting = { workflowId, startMs, upgradedAt };
    }),
  );

  it(
    'restores a backup taken while that run waited into new volumes: graded runs stay, the run starts on time, once',
    noting(async (t: TestContext) => {
      assert.ok(stack && temporal && waiting);
      const project = stack.project;
      const backups = await mkdtemp(path.join(tmpdir(), 'gg-backup-'));
      try {
        const dir = path.join(backups, 'nightly');
        assert.ok(gradedBeforeBackup.length > 0, 'the earlier tests graded submissions for the backup to keep');
        const backupAt = Date.now();
        let stepAt = backupAt;
        await stack.ops('backup.sh', [dir], 5 * 60_000);
        t.diagnostic(`backup (writers stopped, three dumps, writers started) in ${String(Date.now() - stepAt)} ms`);
        assert.deepEqual((await readdir(dir)).sort(), [
          'SHA256SUMS',
          'TAKEN_AT',
          'greengrader.dump',
          'temporal.dump',
          'temporal_visibility.dump',
        ]);

        const downAt = (stepAt = Date.now());
        await project.run(['down', '--volumes', '--timeout', '30'], 5 * 60_000);
        const volumes = await runCommand('docker', [
          ...['volume', 'ls', '--quiet', '--filter', `label=com.docker.compose.project=${project.name}`],
        ]);
        assert.equal(volumes.stdout.trim(), '', 'down -v removed PostgreSQL’s and the broker’s volumes');
        await stack.ops('restore.sh', [dir, ...composeServices], 10 * 60_000);
        const restoredAt = Date.now();
        t.diagnostic(`down -v, restore and up in ${String(restoredAt - stepAt)} ms`);

        const graded = await waitForGraded(gradedBeforeBackup, 60_000);
        assert.equal(graded.length, gradedBeforeBackup.length, 'every run graded before the backup is listed');
        for (const run of graded) assert.equal(run.outcome, 'graded', run.workflowId);
        const first = gradedBeforeBackup[0] ?? '';
        assert.equal((await temporal.client.workflow.getHandle(first).describe()).status.name, 'COMPLETED');

        const [run, ...others] = await waitForGraded(
          [waiting.workflowId],
          Math.max(waiting.startMs - Date.now(), 0) + 180_000,
        );
        assert.equal(others.length, 0, 'one grading of the waiting run');
        assert.equal(run?.state, 'completed', run?.failureReason ?? '');
        assert.equal(run.outcome, 'graded');
        assert.ok(run.placedAt && run.placedAt.getTime() >= waiting.startMs, 'placed at its planned time, not before');
        const timers = await timerEvents(temporal.client, waiting.workflowId);
        const firstStart = timers.startedAt[0];
        const firstFire = timers.firedAt[0];
        assert.ok(firstStart && firstStart.getTime() < waiting.upgradedAt, 'its timer was started before the upgrade');
        // Fired on the restored stack: a fire before the backup would be in the restored history with its old time.
        assert.ok(
          firstFire && firstFire.getTime() >= downAt,
          `its timer fired at ${String(firstFire?.toISOString())}, before the backup of ${new Date(backupAt).toISOString()} could catch it waiting: raise WAIT_LEAD_PER_SETTLE`,
        );
        t.diagnostic(`the waiting run started ${String(run.placedAt.getTime() - waiting.startMs)} ms after its plan`);
      } finally {
        await rm(backups, { recursive: true, force: true });
      }
    }),
  );
});

async function printLogs(stack: ComposeStack): Promise<void> {
  for (const service of composeServices) {
    const lines = await stack.logs(service, 40).catch((error: unknown) => String(error));
    process.stderr.write(`\n--- docker-compose logs ${service} (last 40) ---\n${lines}`);
  }
}
