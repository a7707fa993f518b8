import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBridgeProcess } from '../../src/app/bridge-process.js';
import { silentLogger } from '../../src/observability/logger.js';
import { freePort, startMosquitto, type RunningMosquitto } from '../../src/services/index.js';
import { ingestWorkflowId } from '../../src/shared/grading-types.js';
import { brokerEnvOf, testBrokerAccounts } from '../support/broker-accounts.js';
import { buildGradescopeZip } from '../support/gradescope-zip.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';
import { waitFor } from '../support/wait-for.js';
import { scratchDir } from '../support/scratch-dir.js';

/** These tests stop and restart their broker, so they get one of their own. */
describe('the bridge and an unreliable broker', () => {
  let dir: string;
  let port: number;
  let broker: RunningMosquitto;
  let stack: GradingStack;
  const accounts = testBrokerAccounts();
  const startBroker = () => startMosquitto({ dir, port, accounts, persistence: true, maxPayloadBytes: 1024 ** 2 });

  before(async () => {
    dir = await scratchDir('gg-broker-');
    port = await freePort();
    broker = await startBroker();
    stack = await startGradingStack({
      env: brokerEnvOf(broker.url, accounts),
    });
  });
  after(async () => {
    await stack?.stop();
    await broker?.stop();
  });

  it('reconnects after the broker restarts, and a publish refused while it was down succeeds on retry', async () => {
    const file = await writeZipFile(await buildGradescopeZip({ hostname: 'broker-down\n' }));
    await broker.stop();
    await assert.rejects(mosquittoPub(brokerOf(stack.config), file.path), 'the broker is down');
    broker = await startBroker();
    await waitFor(() => Promise.resolve(stack.bridge?.client.connected || undefined), {
      timeoutMs: 20_000,
      description: 'bridge reconnected',
    });
    await mosquittoPub(brokerOf(stack.config), file.path);
    const run = await stack.waitForRun(ingestWorkflowId(file.sha256));
    assert.equal(run.outcome, 'graded');
  });

  it('receives what was published while the bridge was down, once it is back', async () => {
    await stack.bridge?.stop();
    const file = await writeZipFile(await buildGradescopeZip({ hostname: 'bridge-down\n' }));
    await mosquittoPub(brokerOf(stack.config), file.path);
    // The broker keeps the message in the bridge's persistent session, across its own restart too.
    await broker.stop();
    broker = await startBroker();
    const bridge = await startBridgeProcess(stack.config, silentLogger, {
      shared: { db: stack.database.db, temporal: stack.temporal },
    });
    try {
      const run = await stack.waitForRun(ingestWorkflowId(file.sha256));
      assert.equal(run.outcome, 'graded');
    } finally {
      await bridge.stop();
    }
  });
});
