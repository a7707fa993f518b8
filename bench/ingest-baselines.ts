// The two references bench:ingest compares the bridge with, measured in the same run on the same services.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import pg from 'pg';
import type { Broker } from '../test/support/publish.js';
import { publishBackToBack, type PayloadFile } from './ingest-publish.js';

export interface RateResult {
  count: number;
  seconds: number;
  perSecond: number;
  /** Starts after the first one over the time from the first to the last: how the outage backlog is measured. */
  firstToLastPerSecond?: number;
  /** Start calls that failed and were tried again (only where tries were allowed). */
  failedAttempts?: number;
}

const rate = (count: number, ms: number): RateResult => ({
  count,
  seconds: ms / 1000,
  perSecond: count / (ms / 1000),
});

/**
 * What the original ingest.py did per message and nothing more: one INSERT, committed on its own, one row at a
 * time, into a plain table of the same database server. The ceiling of a store-one-then-ack loop.
 */
export async function measureStoreOnly(databaseUrl: string, files: readonly PayloadFile[]): Promise<RateResult> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const table = `bench_store_only_${randomUUID().slice(0, 8)}`;
    await client.query(`CREATE TABLE ${table} (sha256 text PRIMARY KEY, bytes bytea NOT NULL)`);
    // Reading the file is part of the loop, as a broker hands each message over separately.
    const t0 = Date.now();
    for (const file of files) {
      await client.query(`INSERT INTO ${table} VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
        file.sha256,
        await readFile(file.path),
      ]);
    }
    const result = rate(files.length, Date.now() - t0);
    await client.query(`DROP TABLE ${table}`);
    return result;
  } finally {
    await client.end();
  }
}

/**
 * Temporal's own start rate: `count` workflow starts, `concurrency` in flight, on a task queue nobody polls
 * (a start costs the same whether or not a worker later runs the workflow).
 */
export async function measureTemporalStarts(
  temporal: Client,
  count: number,
  concurrency: number,
  /** Tries per start: more than 1 where the server may time calls out (right after a restart). */
  attempts = 1,
): Promise<RateResult> {
  const taskQueue = `bench-start-rate-${randomUUID().slice(0, 8)}`;
  let next = 0;
  let failure: unknown;
  let failedAttempts = 0;
  const returnedAt: number[] = [];
  const t0 = Date.now();
  const startOnce = (workflowId: string) =>
    temporal.workflow.start('BenchNoopWorkflow', { taskQueue, workflowId, args: [] }).then(
      () => undefined,
      (error: unknown) => {
        // A retried start whose first try went through after all: started, as the product's starter counts it.
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      },
    );
  const lane = async () => {
    while (next < count && failure === undefined) {
      const index = next++;
      for (let attempt = 1; ; attempt += 1) {
        try {
          await startOnce(`${taskQueue}-${index}`);
          break;
        } catch (error) {
          if (attempt >= attempts) throw error;
          failedAttempts += 1;
          await sleep(200);
        }
      }
      returnedAt.push(Date.now());
    }
  };
  // Every lane settles before this returns: a caller closing the connection on a failure must not leave
  // another lane's call retrying on a closed channel (grpc-js throws that from a timer, killing the process).
  const lanes = await Promise.allSettled(
    Array.from({ length: concurrency }, () =>
      lane().catch((error: unknown) => {
        failure ??= error;
        throw error;
      }),
    ),
  );
  if (failure !== undefined) {
    const failed = lanes.filter((l) => l.status === 'rejected').length;
    throw new Error(`Temporal's own start rate: ${failed} of ${concurrency} lanes failed`, { cause: failure });
  }
  const firstToLastMs = Math.max(1, Math.max(...returnedAt) - Math.min(...returnedAt));
  return {
    ...rate(count, Date.now() - t0),
    firstToLastPerSecond: (count - 1) / (firstToLastMs / 1000),
    failedAttempts,
  };
}

/**
 * Temporal's own start rate right after it came back from a restart: `count` bare starts, `concurrency` at
 * once, through a new connection (a client's reconnect backoff is not the server's), sent as soon as the
 * server answers. The control for the outage backlog: a server fresh from a restart reloads its queues and
 * caches, and starts more slowly for a while than the same server warm.
 */
export async function measureStartsAfterRestart(
  address: string,
  restart: () => Promise<void>,
  count: number,
  concurrency: number,
): Promise<RateResult> {
  await restart();
  const connection = await Connection.connect({ address });
  try {
    // The product's starter tries a failed start again too (bounded here: 20 tries, 200 ms apart).
    return await measureTemporalStarts(new Client({ connection }), count, concurrency, 20);
  } finally {
    await connection.close();
  }
}

/**
 * Temporal's own start rate under the scenario's publishing load: the same files published back to back (one
 * mosquitto_pub each, to a topic nobody subscribes to: no bridge, no database writes) while bare starts run,
 * `concurrency` at once, until the last publish returned. What the server can start while the Gradescope side
 * and the broker take their share of the cores, as they do in the scenario.
 */
export async function measureStartsWhilePublishing(
  temporal: Client,
  broker: Broker,
  files: readonly PayloadFile[],
  concurrency: number,
): Promise<RateResult> {
  const taskQueue = `bench-start-rate-${randomUUID().slice(0, 8)}`;
  let publishing = true;
  let next = 0;
  const t0 = Date.now();
  const lane = async () => {
    while (publishing) {
      const index = next++;
      await temporal.workflow.start('BenchNoopWorkflow', { taskQueue, workflowId: `${taskQueue}-${index}`, args: [] });
    }
  };
  const lanes = Array.from({ length: concurrency }, () => lane());
  try {
    await publishBackToBack(broker, files);
  } finally {
    publishing = false;
  }
  const ms = Date.now() - t0;
  // Starts still in flight when publishing ended count too: each lane sends no new one after it.
  const settled = await Promise.allSettled(lanes);
  const failed = settled.filter((lane) => lane.status === 'rejected');
  if (failed.length > 0) {
    throw new Error(`Temporal's start rate under load: ${failed.length} of ${concurrency} lanes failed`, {
      cause: (failed[0] as PromiseRejectedResult).reason,
    });
  }
  return rate(next, Math.max(ms, Date.now() - t0));
}
