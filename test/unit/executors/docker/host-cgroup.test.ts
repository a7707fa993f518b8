import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hostCgroupCpuMs, hostCgroupOomKills } from '../../../../src/executors/docker/host-cgroup.js';

const root = mkdtempSync(join(tmpdir(), 'gg-cgroup-'));
const id = (digit: string): string => digit.repeat(64);

function place(relative: string, text: string): void {
  const path = join(root, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

describe("a container's CPU time from the host's cgroup files", () => {
  after(() => rmSync(root, { recursive: true, force: true }));

  it('reads cgroup v1 cpuacct.usage (ns) under the cgroupfs and systemd drivers', () => {
    place(`cpuacct/docker/${id('a')}/cpuacct.usage`, '1234567890\n');
    place(`cpu,cpuacct/system.slice/docker-${id('b')}.scope/cpuacct.usage`, '2500000\n');
    assert.equal(hostCgroupCpuMs(id('a'), root), 1234.56789);
    assert.equal(hostCgroupCpuMs(id('b'), root), 2.5);
  });

  it("reads cgroup v2 cpu.stat's usage_usec (µs)", () => {
    place(`system.slice/docker-${id('c')}.scope/cpu.stat`, 'usage_usec 3000500\nuser_usec 3000000\nsystem_usec 500\n');
    place(`docker/${id('d')}/cpu.stat`, 'usage_usec 42\n');
    assert.equal(hostCgroupCpuMs(id('c'), root), 3000.5);
    assert.equal(hostCgroupCpuMs(id('d'), root), 0.042);
  });

  it('answers null, for the engine to be asked, when no layout has the container or its text is not a counter', () => {
    assert.equal(hostCgroupCpuMs(id('e'), root), null);
    place(`docker/${id('f')}/cpu.stat`, 'nr_periods 0\n');
    assert.equal(hostCgroupCpuMs(id('f'), root), null);
  });

  it('counts OOM kills from v1 memory.oom_control and v2 memory.events', () => {
    place(`memory/docker/${id('7')}/memory.oom_control`, 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    place(`system.slice/docker-${id('8')}.scope/memory.events`, 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n');
    place(`docker/${id('9')}/memory.events`, 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n');
    assert.equal(hostCgroupOomKills(id('7'), root), 2);
    assert.equal(hostCgroupOomKills(id('8'), root), 1);
    assert.equal(hostCgroupOomKills(id('9'), root), 0);
    assert.equal(hostCgroupOomKills(id('e'), root), null, 'unknown here: the engine is asked');
  });

  it('reads only paths named by a full container id', () => {
    place('cpuacct/docker/cpuacct.usage', '99\n');
    place(`cpuacct/docker/${id('1').slice(0, 12)}/cpuacct.usage`, '99\n');
    assert.equal(hostCgroupCpuMs('', root), null);
    assert.equal(hostCgroupCpuMs(id('1').slice(0, 12), root), null);
    assert.equal(hostCgroupCpuMs(`../${id('a').slice(3)}`, root), null);
  });
});
