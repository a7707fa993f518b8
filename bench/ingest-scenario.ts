// One bench:ingest scenario: a fresh database, a `greengrader bridge` process, a burst of mosquitto_pubs.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { connectDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { spawnBridge } from '../test/support/bridge-child.js';
import type { DefaultMosquitto } from '../test/support/default-mosquitto.js';
import { createFreshDatabase } from '../test/support/fresh-database.js';
import type { CpuBreakdown, SamplerOptions } from './cpu-breakdown.js';
import { startSamplerProcess } from './cpu-sampler-process.js';
import { publishBackToBack, type PayloadFile, type Published } from './ingest-publish.js';
import { watchStoredPayloads } from './ingest-stored-watch.js';

export interface ScenarioSetup {
  adminDatabaseUrl: string;
  broker: DefaultMosquitto;
  temporalAddress: string;
  temporal: Client;
  /** Bridge settings over its defaults (BRIDGE_WINDOW, …). */
  bridgeEnv: Record<string, string>;
  /** Node flags for the bridge process (`--cpu-prof …` with --cpu-prof-dir). */
  bridgeNodeArgs: readonly string[];
  /** Containers of the Temporal server under test (compose), for the CPU table. */
  temporalContainers?: SamplerOptions['serviceContainers'];
}

/** A Temporal outage during the burst: stopped after `afterMessages` publishes, back `forMs` later. */
export interface Outage {
  afterMessages: number;
  forMs: number;
  stopTemporal(): Promise<void>;
  startTemporal(): Promise<void>;
}

export interface ScenarioResult {
  name: string;
  messages: number;
  payloadBytes: number;
  ackedPerSec: number;
  storedPerSec: number;
  startedPerSec: number;
  p50StoredMs: number;
  p95StoredMs: number;
  /** Last stored − last mosquitto_pub returned. */
  tailMs: number;
  /** Last workflow started − last stored. */
  startLagMs: number;
  lost: number;
  duplicates: number;
  /**
   * Outage only: how long Temporal was down, starts that got through while it was stopping, how long after it
   * answered again the first pending workflow started, and the rate the backlog was then started at.
   */
  outage?: { downMs: number; startedWhileDown: number; resumeMs: number; drainPerSec: number };
  /** CPU per component from the first publish to the last start (not for an outage: the server restarts). */
  cpu?: CpuBreakdown;
}

/** Gives up on a scenario when nothing new was stored or started for this long. */
const STALL_MS = 60_000;

export async function runScenario(
  name: string,
  files: readonly PayloadFile[],
  setup: ScenarioSetup,
  outage?: Outage,
): Promise<ScenarioResult> {
  const suffix = randomUUID().slice(0, 8);
  const database = await createFreshDatabase(setup.adminDatabaseUrl);
  const handle = connectDatabase(database.url, { maxConnections: 2 });
  const taskQueue = `bench-ingest-${suffix}`;
  const topic = `bench/${suffix}`;
  try {
    await migrateDatabase(handle.pool);
    const watch = await watchStoredPayloads(database.url);
    const bridge = await spawnBridge(
      {
        DATABASE_URL: database.url,
        TEMPORAL_ADDRESS: setup.temporalAddress,
        TEMPORAL_TASK_QUEUE: taskQueue,
        MQTT_URL: setup.broker.url,
        MQTT_USERNAME: setup.broker.username,
        MQTT_PASSWORD: setup.broker.password,
        MQTT_TOPIC: topic,
        MQTT_CLIENT_ID: `bench-bridge-${suffix}`,
        ...setup.bridgeEnv,
      },
      setup.bridgeNodeArgs,
    );
    let sampler: Awaited<ReturnType<typeof startSamplerProcess>> | undefined;
    try {
      await bridge.waitUntilSubscribed();
      sampler = outage
        ? undefined
        : await startSamplerProcess({
            stackPid: bridge.child.pid ?? 0,
            publisherParentPid: process.pid,
            servicePorts: {
              temporal: portOf(`tcp://${setup.temporalAddress}`),
              postgres: portOf(setup.adminDatabaseUrl),
              mosquitto: portOf(setup.broker.url),
            },
            // No grader runs here: a prefix no container carries.
            nodeNamePrefix: `bench-ingest-${suffix}-none`,
            serviceContainers: setup.temporalContainers,
          });
      let down: Promise<{ stoppedAt: number; backAt: number }> | undefined;
      const published = await publishBackToBack(
        { url: setup.broker.url, username: setup.broker.username, password: setup.broker.password, topic },
        files,
        (index) => {
          if (outage && index + 1 === outage.afterMessages) down = runOutage(outage);
        },
      );
      await waitForProgress(() => watch.storedAt.size, files.length, 'stored');
      const outageTimes = await down;
      const startedAt = async () =>
        (
          await handle.pool.query<{ sha256: string; at: Date }>(
            'SELECT sha256, workflow_started_at AS at FROM raw_payloads WHERE workflow_started_at IS NOT NULL',
          )
        ).rows;
      // A count, not the rows, and 10 times a second: the bench's own polling must not tax the server it measures.
      const startedCount = async () =>
        Number(
          (
            await handle.pool.query<{ n: string }>(
              'SELECT count(*) AS n FROM raw_payloads WHERE workflow_started_at IS NOT NULL',
            )
          ).rows[0]?.n ?? 0,
        );
      await waitForProgress(startedCount, watch.storedAt.size, 'started', 100);
      const cpu = await sampler?.stop(0);
      sampler = undefined;
      const started = await startedAt();
      const executions = await countExecutions(setup.temporal, taskQueue, started.length);
      await watch.stop();
      return { ...summarize(name, files, published, watch.storedAt, started, executions, outageTimes), cpu };
    } catch (error) {
      process.stderr.write(`bridge log tail:\n${bridge.log().slice(-4000)}\n`);
      // Its child would keep this process alive.
      await sampler?.stop(0).catch(() => undefined);
      throw error;
    } finally {
      await bridge.stop();
    }
  } finally {
    await handle.close();
    await database.drop();
  }
}

const portOf = (url: string) => Number(new URL(url).port);

async function runOutage(outage: Outage): Promise<{ stoppedAt: number; backAt: number }> {
  const stoppedAt = Date.now();
  await outage.stopTemporal();
  await sleep(Math.max(0, stoppedAt + outage.forMs - Date.now()));
  await outage.startTemporal();
  return { stoppedAt, backAt: Date.now() };
}

/** Waits until `current()` reaches `target`, failing only when it stops moving for STALL_MS. */
async function waitForProgress(current: () => number | Promise<number>, target: number, what: string, intervalMs = 20) {
  let last = -1;
  let movedAt = Date.now();
  for (;;) {
    const value = await current();
    if (value >= target) return;
    if (value !== last) [last, movedAt] = [value, Date.now()];
    if (Date.now() - movedAt > STALL_MS) {
      process.stderr.write(`bench: ${what} stalled at ${value} of ${target}\n`);
      return;
    }
    await sleep(intervalMs);
  }
}

/** Executions on the task queue; visibility lags the starts a little, so it waits (briefly) for `expected`. */
async function countExecutions(temporal: Client, taskQueue: string, expected: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { count } = await temporal.workflow.count(`TaskQueue = "${taskQueue}"`);
    if (count >= expected || Date.now() > deadline) return count;
    await sleep(200);
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN);

function summarize(
  name: string,
  files: readonly PayloadFile[],
  published: Published[],
  storedAt: Map<string, number>,
  started: { sha256: string; at: Date }[],
  executions: number,
  outage: { stoppedAt: number; backAt: number } | undefined,
): ScenarioResult {
  const firstPublish = Math.min(...published.map((p) => p.startedAt));
  const lastReturned = Math.max(...published.map((p) => p.returnedAt));
  const latencies = published
    .flatMap((p) => {
      const at = storedAt.get(p.sha256);
      return at === undefined ? [] : [at - p.returnedAt];
    })
    .sort((a, b) => a - b);
  const storedTimes = [...storedAt.values()];
  const lastStored = Math.max(...storedTimes);
  const startTimes = started.map((row) => row.at.getTime());
  const firstStarted = Math.min(...startTimes);
  const lastStarted = Math.max(...startTimes);
  const result: ScenarioResult = {
    name,
    messages: files.length,
    payloadBytes: files[0]?.sizeBytes ?? 0,
    ackedPerSec: published.length / ((lastReturned - firstPublish) / 1000),
    storedPerSec: storedAt.size / ((lastStored - firstPublish) / 1000),
    startedPerSec: started.length / (Math.max(1, lastStarted - firstStarted) / 1000),
    p50StoredMs: percentile(latencies, 50),
    p95StoredMs: percentile(latencies, 95),
    tailMs: lastStored - lastReturned,
    startLagMs: lastStarted - lastStored,
    lost: files.length - files.filter((file) => storedAt.has(file.sha256)).length,
    duplicates: Math.max(0, executions - started.length) + Math.max(0, storedAt.size - files.length),
  };
  if (outage) {
    const afterReturn = startTimes.filter((at) => at >= outage.backAt);
    const firstAfter = Math.min(...afterReturn);
    result.outage = {
      downMs: outage.backAt - outage.stoppedAt,
      startedWhileDown: startTimes.filter((at) => at > outage.stoppedAt && at < outage.backAt).length,
      resumeMs: firstAfter - outage.backAt,
      // Starts after the first one, over the time they took: the starter's own throughput on a backlog.
      drainPerSec: (afterReturn.length - 1) / (Math.max(1, Math.max(...afterReturn) - firstAfter) / 1000),
    };
  }
  return result;
}
