import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CleanupStack } from '../../../src/app/cleanup-stack.js';
import type { Database } from '../../../src/db/client.js';
import { freePort, startTemporal, type RunningTemporal } from '../../../src/services/index.js';
import { requireEnv } from '../../support/env.js';
import { commitPendingPayloads, startedPayloadCount } from '../../support/pending-payloads.js';
import { waitFor } from '../../support/wait-for.js';

/** A Temporal dev server of the test's own, on a fixed port and SQLite file: stopping it disturbs no other test. */
export interface OwnTemporal {
  address: string;
  stop(): Promise<void>;
  /** Starts it again on the same port and file. */
  restart(): Promise<void>;
}

export async function startOwnTemporal(dirPrefix: string, cleanup: CleanupStack): Promise<OwnTemporal> {
  const dir = await mkdtemp(path.join(tmpdir(), dirPrefix));
  cleanup.push('temporal dir', () => rm(dir, { recursive: true, force: true }));
  const options = {
    dbFile: path.join(dir, 'temporal.db'),
    port: await freePort(),
    cliPath: requireEnv('TEMPORAL_CLI'),
  };
  let server: RunningTemporal | undefined = await startTemporal(options);
  cleanup.push('temporal server', () => server?.stop() ?? Promise.resolve());
  const { address } = server;
  return {
    address,
    stop: async () => {
      await server?.stop();
      server = undefined;
    },
    restart: async () => {
      server = await startTemporal(options);
    },
  };
}

export interface OutageCase {
  db: Database;
  starter: { poke(): void };
  temporal: OwnTemporal;
  /** Rows started before the outage. */
  startedBefore: number;
  /** Rows committed while Temporal is down. */
  pendingDuring: number;
  outageMs: number;
  /** How soon after Temporal answers again the first pending row must have started. */
  resumeBoundMs: number;
}

/** Stops Temporal, commits rows, and checks that none starts until it is back, then that they start promptly. */
export async function expectStartsToResumeAfterOutage(test: OutageCase): Promise<void> {
  const { db, starter, temporal, startedBefore } = test;
  await temporal.stop();
  await commitPendingPayloads(db, test.pendingDuring);
  starter.poke();
  await sleep(test.outageMs);
  assert.equal(await startedPayloadCount(db), startedBefore, 'nothing starts while Temporal is down');

  await temporal.restart();
  const answeredAt = Date.now();
  await waitFor(async () => (await startedPayloadCount(db)) > startedBefore, {
    description: 'the first pending row started after Temporal returned',
    timeoutMs: 60_000,
    intervalMs: 50,
  });
  const resumedMs = Date.now() - answeredAt;
  assert.ok(resumedMs <= test.resumeBoundMs, `pending starts resumed ${resumedMs} ms after Temporal answered`);
  await waitFor(async () => (await startedPayloadCount(db)) === startedBefore + test.pendingDuring, {
    description: `all ${test.pendingDuring} pending rows started`,
    timeoutMs: 30_000,
    intervalMs: 50,
  });
}
