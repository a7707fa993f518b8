import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chooseGraderRuntime, GraderRuntimeError } from '../../src/executors/docker/grader-runtime.js';
import { PROBE_IMAGE } from '../../src/executors/docker/runtime-probe.js';
import { runCommand } from '../../src/services/run-command.js';
import { startPrivateEngine, type PrivateEngine } from '../support/private-docker-engine.js';

const CRUN = '/usr/bin/crun';
const sandbox = { diskLimitBytes: 64 * 1024 * 1024, nofileLimit: 256 };

// Engines of the test's own, so that what they list is the test's choice, whatever the machine's engine lists.
describe('the grader runtime a node picks', () => {
  let withCrun: PrivateEngine;
  let without: PrivateEngine;
  let broken: PrivateEngine;
  before(async () => {
    [withCrun, without, broken] = await Promise.all([
      startPrivateEngine({ runtimes: { crun: CRUN } }),
      startPrivateEngine(),
      // Registered, but no container starts under it: `false` fails every `create` the shim asks of it.
      startPrivateEngine({ runtimes: { crun: '/bin/false' } }),
    ]);
  });
  after(async () => {
    await Promise.all([withCrun, without, broken].map((engine) => engine?.stop()));
  });

  it('auto takes crun when the engine lists it and a container runs under it', async () => {
    const choice = await chooseGraderRuntime(withCrun.docker, 'auto', sandbox);
    assert.deepEqual([choice.runtime, choice.fellBack], ['crun', false]);
    // The probe left nothing running or stopped behind: only its image.
    assert.deepEqual(await withCrun.docker.listContainers({ all: true }), []);
    await withCrun.docker.getImage(PROBE_IMAGE).inspect();
  });

  it('auto falls back to the engine default, and says why, when the engine lacks crun', async () => {
    const choice = await chooseGraderRuntime(without.docker, 'auto', sandbox);
    assert.deepEqual([choice.runtime, choice.fellBack], ['runc', true]);
    assert.match(choice.reason, /no crun runtime .*--add-runtime crun=/);
  });

  it('auto falls back when crun is listed but cannot run a container on this host', async () => {
    const choice = await chooseGraderRuntime(broken.docker, 'auto', sandbox);
    assert.deepEqual([choice.runtime, choice.fellBack], ['runc', true]);
    assert.match(choice.reason, /lists crun but a probe container did not run under it: .+/);
    assert.deepEqual(await broken.docker.listContainers({ all: true }), []);
  });

  it('a runtime named in GRADER_RUNTIME is used as named', async () => {
    const choice = await chooseGraderRuntime(withCrun.docker, 'runc', sandbox);
    assert.deepEqual([choice.runtime, choice.fellBack], ['runc', false]);
  });

  it('a named runtime the engine lacks, or that runs nothing, stops the node with a clear error', async () => {
    await assert.rejects(
      chooseGraderRuntime(without.docker, 'crun', sandbox),
      (error: Error) =>
        error instanceof GraderRuntimeError && /no runtime of that name \(it has .*runc/.test(error.message),
    );
    await assert.rejects(
      chooseGraderRuntime(broken.docker, 'crun', sandbox),
      (error: Error) =>
        error instanceof GraderRuntimeError && /probe container did not run under it/.test(error.message),
    );
  });
});

describe('a private engine', () => {
  it("leaves the shared engine's default bridge (docker0) in place", async () => {
    const bridgeExists = () =>
      runCommand('ip', ['link', 'show', 'docker0']).then(
        () => true,
        () => false,
      );
    assert.ok(await bridgeExists(), 'the shared engine has its default bridge');
    const engine = await startPrivateEngine();
    await engine.stop();
    assert.ok(await bridgeExists(), 'docker0 survived a private engine');
  });
});
