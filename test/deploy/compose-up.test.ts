import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { connectDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { runCommand } from '../../src/services/run-command.js';
import { buildGradescopeZip } from '../support/gradescope-zip.js';
import { waitFor } from '../support/wait-for.js';
import { composeServices, prepareComposeStack, type ComposeEndpoints, type ComposeStack } from './compose-stack.js';
import { failureNotes } from './failure-notes.js';
import { publishUntilAccepted, waitForBridgeSubscribed, waitForFinalRuns } from './stack-runs.js';

/** Restarted one after another while submissions keep coming (issue 13). */
const restartOrder = ['mosquitto', 'postgres', 'temporal', 'orchestrator', 'node'] as const;

// Cold: stand-in images (apt), greengrader's image (npm ci) and possibly the Temporal server (go build).
describe('docker-compose.yml, up for real on stand-in images', { timeout: 90 * 60_000 }, () => {
  let stack: ComposeStack | undefined;
  let endpoints: ComposeEndpoints | undefined;
  let database: DatabaseHandle | undefined;
  let temporal: { connection: Connection; client: Client } | undefined;
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
      await waitForBridgeSubscribed(stack);
      const workflowId = await publish('first');
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
    }),
  );
});

async function printLogs(stack: ComposeStack): Promise<void> {
  for (const service of composeServices) {
    const lines = await stack.logs(service, 40).catch((error: unknown) => String(error));
    process.stderr.write(`\n--- docker-compose logs ${service} (last 40) ---\n${lines}`);
  }
}
