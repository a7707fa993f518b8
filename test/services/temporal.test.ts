import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { startTemporal, type RunningTemporal } from '../../src/services/index.js';
import { runCommand } from '../../src/services/run-command.js';
import { requireEnv } from '../support/env.js';
import { waitFor } from '../support/wait-for.js';

const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

describe('the Temporal launcher', () => {
  let dir: string;
  let server: RunningTemporal;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gg-temporal-test-'));
    server = await startTemporal({
      dbFile: path.join(dir, 'temporal.db'),
      namespace: 'gg-launcher-test',
      cliPath: requireEnv('TEMPORAL_CLI'),
    });
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the namespace asked for, headless, on a loopback address, its SQLite file in WAL mode', async () => {
    assert.match(server.address, /^127\.0\.0\.1:\d+$/);
    assert.equal(server.uiUrl, undefined, 'headless without a uiPort');
    const { stdout } = await runCommand(server.cliPath, [
      'operator',
      'namespace',
      'describe',
      '--address',
      server.address,
      '--namespace',
      server.namespace,
      '-o',
      'json',
    ]);
    assert.match(stdout, /"gg-launcher-test"/);
    // Bytes 18 and 19 of a SQLite file's header are 2 once it is in WAL mode (1: rollback journal).
    const header = Buffer.alloc(20);
    const file = await open(path.join(dir, 'temporal.db'));
    await file.read(header, 0, 20, 0).finally(() => file.close());
    assert.deepEqual([header[18], header[19]], [2, 2], 'the SQLite file keeps a write-ahead log');
  });

  it('puts a task queue’s new tasks into its first partition only', async () => {
    const connection = await Connection.connect({ address: server.address });
    try {
      const client = new Client({ connection, namespace: server.namespace });
      const taskQueue = 'gg-launcher-partitions';
      // No worker polls this queue: each start leaves its first workflow task in a partition's backlog.
      for (let i = 0; i < 20; i++) {
        await client.workflow.start('neverRun', { taskQueue, workflowId: `gg-launcher-partitions-${i}` });
      }
      const backlogOf = async (name: string) => {
        const { taskQueueStatus } = await connection.workflowService.describeTaskQueue({
          namespace: server.namespace,
          taskQueue: { name, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
          includeTaskQueueStatus: true,
        });
        return Number(taskQueueStatus?.backlogCountHint ?? 0);
      };
      // Partition n > 0 of a task queue answers under the name /_sys/QUEUE/n. The counts are hints that may lag the
      // starts: read until all 20 tasks are counted somewhere.
      const names = [taskQueue, `/_sys/${taskQueue}/1`, `/_sys/${taskQueue}/2`, `/_sys/${taskQueue}/3`];
      const backlogs = await waitFor(
        async () => {
          const counts = await Promise.all(names.map(backlogOf));
          return counts.reduce((sum, count) => sum + count, 0) >= 20 ? counts : null;
        },
        { description: 'the 20 workflow tasks counted in the backlogs', timeoutMs: 10_000, intervalMs: 200 },
      );
      // With four write partitions (Temporal's default) the 20 spread over all four.
      assert.deepEqual(backlogs, [20, 0, 0, 0]);
    } finally {
      await connection.close();
    }
  });

  it('starts again when the dev server lost a port it chose to another process, and only then', async () => {
    const realCli = requireEnv('TEMPORAL_CLI');
    const started = path.join(dir, 'starts');
    /** A CLI whose `server start-dev` fails as the dev server does on a listener error, once or every time. */
    const failingCli = async (name: string, error: string, when: 'once' | 'always') => {
      const file = path.join(dir, name);
      const log = `${started}-${name}`;
      const fails = when === 'once' ? `[ "$(wc -l < '${log}')" -le 1 ]` : 'true';
      const script = [
        '#!/bin/sh',
        `if [ "$1" = server ]; then echo start >> '${log}'; fi`,
        `if [ "$1" = server ] && ${fails}; then`,
        `  echo 'Failed to start gRPC listener error="listen tcp 127.0.0.1:39999: bind: ${error}"' >&2`,
        '  exit 2',
        'fi',
        `exec '${realCli}' "$@"`,
        '',
      ].join('\n');
      await writeFile(file, script, { mode: 0o755 });
      return file;
    };
    const starts = async (name: string) => (await readFile(`${started}-${name}`, 'utf8')).trim().split('\n').length;

    const again = await startTemporal({
      cliPath: await failingCli('lost-a-port', 'address already in use', 'once'),
      logFile: path.join(dir, 'a.log'),
    });
    try {
      assert.equal(await starts('lost-a-port'), 2, 'started a second time');
      const { stdout } = await runCommand(realCli, ['operator', 'namespace', 'list', '--address', again.address]);
      assert.match(stdout, /default/);
    } finally {
      await again.stop();
    }
    await assert.rejects(
      startTemporal({
        cliPath: await failingCli('other-failure', 'permission denied', 'always'),
        logFile: path.join(dir, 'b.log'),
      }),
      /exited with code 2 before answering/,
    );
    assert.equal(await starts('other-failure'), 1, 'another failure is not tried again');
  });
});
