// The Temporal server bench:ingest measures against: the dev server (SQLite) or the compose stack's server with
// PostgreSQL persistence (test/deploy stand-ins), each able to stop and start again for the outage scenario.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort, startTemporal, type RunningTemporal } from '../src/services/index.js';
import { commandSucceeds } from '../src/services/run-command.js';
import { prepareComposeStack } from '../test/deploy/compose-stack.js';
import { requireEnv } from '../test/support/env.js';
import { waitFor } from '../test/support/wait-for.js';
import type { Component } from './cpu-breakdown.js';

export const TEMPORAL_KINDS = ['dev', 'compose'] as const;
export type TemporalKind = (typeof TEMPORAL_KINDS)[number];

export interface BenchTemporal {
  kind: TemporalKind;
  /** For the table's header: which server, and what it persists in. */
  description: string;
  /** gRPC frontend on 127.0.0.1; the same across stop() and start(). */
  address: string;
  /** Takes the server away, as an outage would. */
  stop: () => Promise<void>;
  /** Brings it back; resolves once its namespace answers again (the moment "answered again" is taken at). */
  start: () => Promise<void>;
  /** Removes everything it started; safe after a failed stop() or start(). */
  close: () => Promise<void>;
  /** The compose server's containers (server, its PostgreSQL) by id, for the CPU table; none for the dev server. */
  containers?: Readonly<Record<string, Component>>;
}

/** The server's namespace describes: what the dev server's launcher waits for too, so both measure alike. */
const namespaceAnswers = (cliPath: string, address: string) =>
  commandSucceeds(cliPath, ['operator', 'namespace', 'describe', '--address', address, '--namespace', 'default'], {
    timeoutMs: 5_000,
  });

/**
 * A fresh server's frontend learns of a namespace created a moment ago from its namespace cache, refreshed every
 * few seconds: until then a start can fail as "namespace not found" though describe answers. Waits for a start.
 */
async function waitUntilStartsAccepted(address: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    const probe = `bench-probe-${randomUUID().slice(0, 8)}`;
    let attempt = 0;
    // An id per attempt: a start that succeeded after its reply was lost must not fail every later attempt.
    const start = () =>
      client.workflow.start('BenchNoopWorkflow', { taskQueue: probe, workflowId: `${probe}-${attempt++}` });
    await waitFor(() => start().then(() => true), {
      description: `the compose Temporal server on ${address} to accept a workflow start`,
      timeoutMs: 2 * 60_000,
      intervalMs: 500,
    });
  } finally {
    await connection.close();
  }
}

/** Starts the chosen server and returns once it accepts workflow starts. */
export async function startBenchTemporal(
  kind: TemporalKind,
  workDir: string,
  say: (line: string) => void,
  /** Where a signal handler finds what to remove while the server is coming up (the compose project). */
  teardowns: Set<() => Promise<void>>,
): Promise<BenchTemporal> {
  const cliPath = requireEnv('TEMPORAL_CLI');
  if (kind === 'dev') {
    // Fixed port and SQLite file, so the restarted server is the same one to the bridge.
    const options = { dbFile: path.join(workDir, 'temporal.db'), port: await freePort(), cliPath };
    let server: RunningTemporal | undefined = await startTemporal(options);
    const address = server.address;
    const close = async () => {
      await server?.stop();
      server = undefined;
    };
    return {
      kind,
      description: 'Temporal dev server (temporal server start-dev, SQLite)',
      address,
      stop: close,
      async start() {
        server = await startTemporal(options);
      },
      close,
    };
  }

  say('compose: stand-in images and a throwaway project (PostgreSQL, Temporal schema, server, namespace)');
  const stack = await prepareComposeStack();
  const down = () => stack.down();
  teardowns.add(down);
  try {
    const { temporalAddress: address } = await stack.upTemporal();
    // `up -d` returns once the server's port is open; the namespace is created by a one-shot after that.
    const waitUntilServing = () =>
      waitFor(() => namespaceAnswers(cliPath, address), {
        description: `the compose Temporal server on ${address} to serve namespace default`,
        timeoutMs: 5 * 60_000,
        intervalMs: 200,
      });
    await waitUntilServing();
    await waitUntilStartsAccepted(address);
    // `stop`/`start` below keep these containers, so their ids hold for the whole run.
    const containers: Record<string, Component> = {};
    for (const [service, component] of [
      ['temporal', 'temporal server (compose container)'],
      ['postgres', "temporal's PostgreSQL (compose container)"],
    ] as const) {
      const id = await stack.project.containerId(service);
      if (id !== undefined) containers[id] = component;
    }
    return {
      containers,
      kind,
      description: 'compose Temporal server 1.29.1 (stand-in image, PostgreSQL persistence)',
      address,
      // `docker-compose stop/start` keep the container, its port and PostgreSQL's state, as an operator's would.
      stop: () => stack.project.run(['stop', 'temporal'], 5 * 60_000).then(() => undefined),
      async start() {
        await stack.project.run(['start', 'temporal'], 5 * 60_000);
        await waitUntilServing();
      },
      close: async () => {
        await down();
        teardowns.delete(down);
      },
    };
  } catch (error) {
    say(`compose Temporal did not come up; its log:\n${await stack.logs('temporal').catch(String)}`);
    await down();
    teardowns.delete(down);
    throw error;
  }
}
