import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { identify } from '../../src/services/process-record.js';
import { commandSucceeds } from '../../src/services/run-command.js';
import { requireEnv } from '../support/env.js';
import { waitFor } from '../support/wait-for.js';
import {
  freeUpPorts,
  killGroup,
  killRecordedServices,
  recordedPid,
  spawnUp,
  type UpProcess,
} from './support/spawn-up.js';

describe('greengrader up owns what it starts', () => {
  const ups: UpProcess[] = [];
  const dataDirs: string[] = [];
  const servers: Server[] = [];

  const newDataDir = async (): Promise<string> => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gg-up-own-'));
    dataDirs.push(dir);
    return dir;
  };
  const start = (...args: Parameters<typeof spawnUp>): UpProcess => {
    const up = spawnUp(...args);
    ups.push(up);
    return up;
  };

  afterEach(async () => {
    for (const up of ups.splice(0)) await up.stop();
    for (const server of servers.splice(0)) server.close();
    for (const dir of dataDirs.splice(0)) {
      await killRecordedServices(dir);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops the orphans of a crashed up and starts its own Temporal and PostgreSQL', async () => {
    const dataDir = await newDataDir();
    const ports = await freeUpPorts();
    const crashed = start(dataDir, ports);
    await crashed.waitUntilUp();
    const orphans = {
      temporal: await recordedPid(dataDir, 'temporal'),
      postgres: await recordedPid(dataDir, 'postgres'),
    };
    assert.ok(orphans.temporal !== undefined && orphans.postgres !== undefined, 'pid files written');

    killGroup(crashed.child);
    await crashed.exited;
    assert.notEqual(await identify(orphans.temporal), null, 'the Temporal server outlives a kill -9 of up');

    const startedAt = Date.now();
    const next = start(dataDir, ports);
    await next.waitUntilUp();
    assert.match(
      next.stderr(),
      new RegExp(`stopping the Temporal dev server \\(pid ${orphans.temporal}\\) left running by an earlier up`),
    );
    assert.match(next.stderr(), new RegExp(`stopping the PostgreSQL \\(pid ${orphans.postgres}\\) left running`));
    assert.equal(await identify(orphans.temporal), null, 'the orphan is gone');
    const own = await recordedPid(dataDir, 'temporal');
    assert.ok(own !== undefined && own !== orphans.temporal, 'a Temporal server of its own');
    process.stderr.write(`# second up ready ${((Date.now() - startedAt) / 1000).toFixed(1)} s after the crash\n`);

    await next.stop();
    assert.equal(await next.exited, 0, next.stderr());
  });

  it('refuses a foreign process on its Temporal port, naming the port and what to do', async () => {
    const ports = await freeUpPorts();
    const foreign = createServer((socket) => socket.destroy());
    servers.push(foreign);
    await new Promise<void>((resolve) => foreign.listen(ports.temporal, '127.0.0.1', resolve));

    const startedAt = Date.now();
    const up = start(await newDataDir(), ports);
    const code = await up.exited;
    const seconds = (Date.now() - startedAt) / 1000;
    assert.equal(code, 1, up.stderr());
    assert.ok(seconds < 15, `exits within seconds (took ${seconds.toFixed(1)} s)`);
    assert.match(
      up.stderr(),
      new RegExp(
        `port ${ports.temporal} on 127\\.0\\.0\\.1 \\(Temporal\\) is already in use by a process this up did not start: ` +
          'stop that process, choose another port with --temporal-port, or set TEMPORAL_ADDRESS',
      ),
    );
    assert.doesNotMatch(up.stderr(), /starting PostgreSQL/, 'nothing was started');
  });

  it('restarts a Temporal dev server that dies while up runs, on the same port', async () => {
    const dataDir = await newDataDir();
    const ports = await freeUpPorts();
    const up = start(dataDir, ports);
    await up.waitUntilUp();
    const first = await recordedPid(dataDir, 'temporal');
    assert.ok(first !== undefined);

    const killedAt = Date.now();
    process.kill(first, 'SIGKILL');
    const restarted = await waitFor(
      () => /Temporal dev server restarted \(pid \d+\)/.test(up.stderr()) || Date.now() - killedAt > 40_000,
      {
        description: 'up to restart Temporal',
        timeoutMs: 45_000,
        intervalMs: 200,
      },
    ).then(() => /Temporal dev server restarted \(pid \d+\)/.test(up.stderr()));
    assert.ok(restarted, `up restarts Temporal:\n${up.stderr()}`);
    assert.match(up.stderr(), new RegExp(`Temporal dev server \\(pid ${first}\\) was killed by SIGKILL`));
    const address = `127.0.0.1:${ports.temporal}`;
    const cli = requireEnv('TEMPORAL_CLI');
    assert.ok(
      await commandSucceeds(
        cli,
        ['operator', 'namespace', 'describe', '--address', address, '--namespace', 'default'],
        {
          timeoutMs: 10_000,
        },
      ),
      'Temporal answers again on its port',
    );
    process.stderr.write(`# Temporal answered again ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill\n`);
    assert.notEqual(await recordedPid(dataDir, 'temporal'), first, 'the new server is recorded');

    await up.stop();
    assert.equal(await up.exited, 0, up.stderr());
  });
});
