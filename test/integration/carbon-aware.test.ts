import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { CarbonProvider } from '../../src/carbon/provider.js';
import { ingestWorkflowId } from '../../src/shared/grading-types.js';
import { buildGradescopeZip } from '../support/gradescope-zip.js';
import { expediteSignal, gradingStatusQuery } from '../../src/workflows/grade-submission.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';
import { failingProvider, scriptedProvider } from '../support/scripted-carbon.js';
import { waitFor } from '../support/wait-for.js';

const WEST = 'US-CAL-CISO'; // region us-west in config/regions.json
const EAST = 'US-MIDA-PJM'; // region us-east

/**
 * West is dirty until `greenAfterMs` after the first forecast is asked for, then clean; east (home) stays in
 * between. The clock starts at the first forecast, not when the test begins, so a slow stack start on a loaded
 * machine cannot use up the wait before the run is even planned.
 */
function westTurnsGreen(greenAfterMs: number) {
  let greenAtMs: number | null = null;
  const greenAt = () => (greenAtMs ??= Date.now() + greenAfterMs);
  return { greenAt, script: { [WEST]: (t: number) => (t < greenAt() ? 500 : 50), [EAST]: () => 300 } };
}

/** West is clean throughout; east (home) is not. */
const westAlwaysGreen = { [WEST]: () => 50, [EAST]: () => 300 };

describe('carbon-aware placement and timing', () => {
  const stacks: GradingStack[] = [];
  after(async () => {
    for (const stack of stacks) await stack.stop();
  });

  async function stackWith(providers: CarbonProvider[], env: Record<string, string> = {}) {
    const stack = await startGradingStack({
      nodes: 0,
      carbonProviders: providers,
      env: {
        PLACEMENT_POLICY: 'spatiotemporal',
        HOME_REGION: 'us-east',
        MAX_DELAY_SEC: '60',
        FORECAST_REFRESH_SEC: '3',
        CARBON_PROVIDERS: providers.map((p) => p.name).join(','),
        ...env,
      },
    });
    stacks.push(stack);
    const west = await stack.startNode({ NODE_REGION: 'us-west' });
    const east = await stack.startNode({ NODE_REGION: 'us-east' });
    return { stack, west, east };
  }

  async function submit(stack: GradingStack, label: string) {
    const file = await writeZipFile(await buildGradescopeZip({ hostname: `${label}-${Date.now()}\n` }));
    await mosquittoPub(brokerOf(stack.config), file.path);
    return ingestWorkflowId(file.sha256);
  }

  it('waits on a durable timer for the cleaner region and hour, then runs there, with a carbon receipt', async () => {
    const { greenAt, script } = westTurnsGreen(6000);
    const { stack, west } = await stackWith([scriptedProvider('scripted', script)]);
    const workflowId = await submit(stack, 'delayed');

    const status = await waitFor(
      async () => {
        const s = await stack.temporal.workflow.getHandle(workflowId).query(gradingStatusQuery);
        return s.state === 'waiting' ? s : undefined;
      },
      { timeoutMs: 20_000, description: 'the run waiting for a greener hour' },
    );
    assert.equal(status.nodeName, west.nodeName);
    const firstPlan = Date.parse(status.plannedStartAt ?? '');
    assert.ok(Math.abs(firstPlan - greenAt()) <= 1000, `planned ${firstPlan - greenAt()} ms from the green hour`);
    const run = await stack.waitForRun(workflowId, undefined, 60_000);
    assert.equal(run.outcome, 'graded');
    assert.equal(run.nodeName, west.nodeName);
    assert.equal(run.carbonZone, WEST);
    assert.equal(run.policy, 'spatiotemporal');
    // Re-planned on waking: the last plan starts when the green hour has come.
    assert.ok(run.plannedStartAt && run.plannedStartAt.getTime() >= greenAt(), 'last plan not before the green hour');
    assert.ok(run.containerStartedAt && run.containerStartedAt.getTime() >= greenAt(), 'did not start early');

    // Receipt: the same energy at 50 g/kWh (west, green) against 300 g/kWh (east, home, on arrival).
    assert.ok(run.energyKwh !== null && run.energyKwh > 0);
    assert.equal(run.intensityGCo2PerKwh, 50);
    assert.equal(run.intensityBasis, 'average');
    assert.ok(Math.abs((run.emissionsGCo2 ?? 0) - run.energyKwh * 50) < 1e-12);
    assert.ok(Math.abs((run.counterfactualEmissionsGCo2 ?? 0) - run.energyKwh * 300) < 1e-12);
    assert.ok(Math.abs((run.savingGCo2 ?? 0) - run.energyKwh * 250) < 1e-12);
  });

  it('loses nothing when the orchestrator worker restarts during the wait', async () => {
    const { greenAt, script } = westTurnsGreen(8000);
    const { stack } = await stackWith([scriptedProvider('scripted', script)]);
    const workflowId = await submit(stack, 'restart');
    await waitFor(
      async () =>
        (await stack.temporal.workflow.getHandle(workflowId).query(gradingStatusQuery)).state === 'waiting' ||
        undefined,
      { timeoutMs: 20_000, description: 'the run waiting' },
    );
    await stack.restartOrchestrator();
    const run = await stack.waitForRun(workflowId, undefined, 60_000);
    assert.equal(run.outcome, 'graded');
    assert.ok(run.containerStartedAt && run.containerStartedAt.getTime() >= greenAt());
  });

  it('starts at once when expedited', async () => {
    const { script } = westTurnsGreen(10 * 60_000);
    const { stack } = await stackWith([scriptedProvider('scripted', script)], { MAX_DELAY_SEC: '3600' });
    const workflowId = await submit(stack, 'expedite');
    const handle = stack.temporal.workflow.getHandle(workflowId);
    await waitFor(async () => (await handle.query(gradingStatusQuery)).state === 'waiting' || undefined, {
      timeoutMs: 20_000,
      description: 'the run waiting ten minutes',
    });
    const signalledAt = Date.now();
    await handle.signal(expediteSignal);
    const run = await stack.waitForRun(workflowId, undefined, 30_000);
    assert.equal(run.outcome, 'graded');
    assert.equal(run.expedited, true);
    assert.ok((run.containerStartedAt?.getTime() ?? Infinity) - signalledAt < 15_000);
  });

  it('falls back to the next provider, then runs carbon-agnostic with the reason recorded', async () => {
    const down = failingProvider('cas', false);
    const { stack, west } = await stackWith([down, scriptedProvider('trace', westAlwaysGreen)]);
    const workflowId = await submit(stack, 'fallback');
    const run = await stack.waitForRun(workflowId, undefined, 30_000);
    assert.equal(run.outcome, 'graded');
    assert.equal(run.nodeName, west.nodeName, 'the second provider placed it in the green region');
    const plan = run.plan as { forecastProvider: string; providerAttempts: { provider: string; ok: boolean }[] };
    assert.equal(plan.forecastProvider, 'trace');
    assert.deepEqual(
      plan.providerAttempts.map((a) => [a.provider, a.ok]),
      [
        ['cas', false],
        ['trace', true],
      ],
    );
    assert.equal(down.calls, 1, 'a rejected request is not retried');

    const flaky = failingProvider('cas', true);
    const agnostic = await stackWith([flaky]);
    const run2 = await agnostic.stack.waitForRun(await submit(agnostic.stack, 'agnostic'), undefined, 60_000);
    assert.equal(run2.outcome, 'graded');
    assert.equal(flaky.calls, 3, 'a timeout is retried by the activity retry policy, three attempts');
    assert.match((run2.plan as { fallbackReason: string }).fallbackReason, /every carbon provider failed/);
    assert.equal(run2.nodeName, agnostic.east.nodeName, 'carbon-agnostic runs go home, now');
  });
});
