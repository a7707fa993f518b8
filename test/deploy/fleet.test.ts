import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { eq, inArray } from 'drizzle-orm';
import { connectDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { gradingRuns, nodes } from '../../src/db/schema.js';
import { runCommand } from '../../src/services/run-command.js';
import { waitFor } from '../support/wait-for.js';
import type { ComposeEndpoints } from './compose-stack.js';
import { failureNotes } from './failure-notes.js';
import { prepareFleetStack, type FleetNode, type FleetStack } from './fleet-stack.js';
import { sleepingGraderZip } from './sleeping-grader.js';
import { publishUntilAccepted, waitForBridgeSubscribed, waitForFinalRuns, type GradingRun } from './stack-runs.js';

/** Seconds each grader sleeps: long enough to overlap and to be caught mid-run, short for a quick test. */
const GRADER_SEC = 5;

// Cold: the stand-in images and greengrader's image are built first (see compose-up.test.ts).
describe('a fleet of node workers, one Docker network per region', { timeout: 90 * 60_000 }, () => {
  let fleet: FleetStack | undefined;
  let endpoints: ComposeEndpoints | undefined;
  let database: DatabaseHandle | undefined;
  const notes = failureNotes();
  const noting = notes.noting<TestContext, void>;

  before(async () => {
    const prepared = (fleet = await prepareFleetStack());
    await notes.noting(async () => {
      endpoints = await prepared.up();
      database = connectDatabase(endpoints.databaseUrl, { maxConnections: 2 });
      // Ten processes start from cold on a shared two-core machine: allow minutes, not seconds.
      await waitForBridgeSubscribed(prepared.compose, 300_000);
      await waitForLive(prepared.nodes);
    })(undefined);
  });
  after(async () => {
    if (notes.failed && fleet) await printLogs(fleet);
    await database?.close();
    await fleet?.down();
  });

  /** Publishes `count` submissions of the sleeping grader; returns their workflow ids. */
  async function publishBurst(label: string, count: number): Promise<string[]> {
    assert.ok(endpoints);
    const broker = endpoints.publisher;
    const zips = await Promise.all(
      Array.from({ length: count }, (_, i) => sleepingGraderZip(`${label}-${String(i)}`, GRADER_SEC)),
    );
    return Promise.all(zips.map((zip, i) => publishUntilAccepted(broker, zip, `${label}-${String(i)}`)));
  }

  /** Waits until every run is final, then checks each was graded exactly once (one row per workflow). */
  async function gradedOnce(workflowIds: string[]): Promise<GradingRun[]> {
    assert.ok(database);
    // Seconds on a quiet machine; minutes when other stacks share its two cores.
    const runs = await waitForFinalRuns(database, workflowIds, 600_000);
    assert.equal(runs.length, workflowIds.length, 'one run row per submission');
    assert.equal(new Set(runs.map((run) => run.workflowId)).size, workflowIds.length);
    for (const run of runs) {
      assert.equal(run.state, 'completed', `${run.workflowId}: ${run.failureReason ?? ''}`);
      assert.equal(run.outcome, 'graded', run.workflowId);
      assert.equal(run.score, 10, run.workflowId);
    }
    return runs;
  }

  /** The run rows' ids of these workflows, as far as they are stored yet. */
  async function runIds(workflowIds: readonly string[]): Promise<Set<string>> {
    assert.ok(database);
    const rows = await database.db
      .select({ id: gradingRuns.id })
      .from(gradingRuns)
      .where(inArray(gradingRuns.workflowId, [...workflowIds]));
    return new Set(rows.map((row) => row.id));
  }

  async function waitForLive(fleetNodes: readonly FleetNode[]): Promise<void> {
    assert.ok(database);
    const db = database.db;
    const names = fleetNodes.map((node) => node.name);
    await waitFor(
      async () => {
        const rows = await db.select().from(nodes).where(inArray(nodes.name, names));
        return rows.length === names.length && rows.every((row) => Date.now() - row.lastSeenAt.getTime() < 6_000);
      },
      { description: `${names.join(', ')} registered and checking in`, timeoutMs: 300_000, intervalMs: 500 },
    );
  }

  it(
    'puts each region’s node on its own network, beside PostgreSQL and Temporal only, registered in its region',
    noting(async () => {
      assert.ok(fleet && database);
      for (const node of fleet.nodes) {
        const own = await runCommand('docker', [
          ...['inspect', '--format', '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}'],
          await node.containerId(),
        ]);
        assert.deepEqual(own.stdout.trim().split(' '), [node.network], `${node.name}'s networks`);
        const members = await runCommand('docker', [
          ...['network', 'inspect', '--format', '{{range .Containers}}{{.Name}} {{end}}'],
          node.network,
        ]);
        const services = members.stdout
          .trim()
          .split(' ')
          .map((container) => container.replace(`${fleet?.compose.project.name ?? ''}_`, '').replace(/_\d+$/, ''))
          .sort();
        assert.deepEqual(services, [`node-${node.region}`, 'postgres', 'temporal'], `${node.network}'s members`);
        const [row] = await database.db.select().from(nodes).where(eq(nodes.name, node.name));
        assert.equal(row?.region, node.region);
        assert.equal(row.maxConcurrentRuns, 1);
      }
    }),
  );

  it(
    'spreads a burst of 12 across the three regions by placement, no node over its one slot',
    noting(async (t) => {
      assert.ok(fleet);
      const startedAt = Date.now();
      const runs = await gradedOnce(await publishBurst('burst', 12));
      t.diagnostic(`12 graded in ${String(Date.now() - startedAt)} ms: ${describeSpread(runs)}`);
      for (const node of fleet.nodes) {
        const own = runs.filter((run) => run.nodeName === node.name);
        assert.ok(own.length >= 1, `${node.region} graded none: ${describeSpread(runs)}`);
        assert.ok(own.every((run) => run.region === node.region));
      }
      assertWithinSlots(runs, 1);
    }),
  );

  it(
    'hands the run of a node killed mid-run to another region’s node: none lost, none graded twice',
    noting(async (t) => {
      assert.ok(fleet);
      const workflowIds = await publishBurst('kill', 6);
      // A grader container running is a run in flight; its labels say whose and which (of this burst only).
      const names = fleet.nodes.map((node) => node.name);
      const inFlight = await waitFor(async () => runningGrader(names, await runIds(workflowIds)), {
        description: 'a grader running on a fleet node',
        timeoutMs: 120_000,
        intervalMs: 200,
      });
      const victim = fleet.nodes.find((node) => node.name === inFlight.node);
      assert.ok(victim);
      const killedAt = Date.now();
      await runCommand('docker', ['kill', await victim.containerId()]);

      const runs = await gradedOnce(workflowIds);
      const handed = runs.find((run) => run.id === inFlight.runId);
      assert.ok(handed, `run ${inFlight.runId} is one of the burst`);
      assert.notEqual(handed.nodeName, victim.name);
      assert.notEqual(handed.region, victim.region, 'another region took it');
      assert.ok(
        runs.every(
          (run) => run.nodeName !== victim.name || run.recordedAt === null || run.recordedAt.getTime() < killedAt,
        ),
      );
      const state = await runCommand('docker', [
        'inspect',
        '--format',
        '{{.State.Running}}',
        await victim.containerId(),
      ]);
      assert.equal(state.stdout.trim(), 'false', 'a killed node stays down (restart: unless-stopped)');
      t.diagnostic(
        `killed ${victim.name} mid-run; ${handed.nodeName ?? '?'} graded its run ${String((handed.recordedAt?.getTime() ?? 0) - killedAt)} ms later; ${describeSpread(runs)}`,
      );
    }),
  );

  it(
    'takes work on a node that joins mid-burst from a region network of its own',
    noting(async (t) => {
      assert.ok(fleet);
      const first = await publishBurst('join', 9);
      const joined = await fleet.joinNode('ca-east', 'ca-east.ottawa');
      await waitForLive([joined]);
      // The burst goes on after the node is live. Runs already queued stay in their region's queue (a joined
      // node of that region would take them); new arrivals see the new region's room at placement.
      const workflowIds = [...first, ...(await publishBurst('join-late', 4))];
      const runs = await gradedOnce(workflowIds);
      t.diagnostic(`joined ${joined.name}: ${describeSpread(runs)}`);
      const own = runs.filter((run) => run.nodeName === joined.name);
      assert.ok(own.length >= 1, `the joined node graded none: ${describeSpread(runs)}`);
      assert.ok(own.every((run) => run.region === 'ca-east.ottawa' && run.carbonZone === 'CA-ON'));
      assertWithinSlots(runs, 1);
    }),
  );
});

/** The grader container running one of these runs on one of these nodes, if any: its node and run labels. */
async function runningGrader(
  nodeNames: readonly string[],
  runIds: ReadonlySet<string>,
): Promise<{ node: string; runId: string } | undefined> {
  const format = '{{.Label "greengrader.node"}} {{.Label "greengrader.run"}}';
  const { stdout } = await runCommand('docker', ['ps', '--filter', 'label=greengrader.run', '--format', format]);
  for (const line of stdout.split('\n')) {
    const [node, runId] = line.trim().split(' ');
    if (node !== undefined && runId !== undefined && nodeNames.includes(node) && runIds.has(runId))
      return { node, runId };
  }
  return undefined;
}

/** Per node, the graders' [start, end) intervals never overlap more than `slots` at once. */
function assertWithinSlots(runs: readonly GradingRun[], slots: number): void {
  const byNode = groupBy(runs, (run) => run.nodeName ?? '');
  for (const [node, own] of byNode) {
    const edges = own.flatMap((run) => {
      assert.ok(run.containerStartedAt && run.containerFinishedAt, `${run.workflowId} has grader timestamps`);
      return [
        { at: run.containerStartedAt.getTime(), step: 1 },
        { at: run.containerFinishedAt.getTime(), step: -1 },
      ];
    });
    // An end at the same instant as a start frees its slot first.
    edges.sort((a, b) => a.at - b.at || a.step - b.step);
    let running = 0;
    for (const edge of edges) {
      running += edge.step;
      assert.ok(running <= slots, `${node} ran ${String(running)} graders at once (slots: ${String(slots)})`);
    }
  }
}

function describeSpread(runs: readonly GradingRun[]): string {
  const counts = groupBy(runs, (run) => `${run.nodeName ?? '?'} (${run.region ?? '?'})`);
  return [...counts].map(([node, own]) => `${node}: ${String(own.length)}`).join(', ');
}

async function printLogs(fleet: FleetStack): Promise<void> {
  const ps = await fleet.compose.project.run(['ps'], 60_000).catch((error: unknown) => String(error));
  process.stderr.write(`\n--- docker-compose ps ---\n${ps}`);
  for (const service of ['orchestrator', 'bridge', ...fleet.nodes.map((node) => `node-${node.region}`)]) {
    const lines = await fleet.compose.logs(service, 40).catch((error: unknown) => String(error));
    process.stderr.write(`\n--- docker-compose logs ${service} (last 40) ---\n${lines}`);
  }
}

/** Node 20 has no Map.groupBy. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
