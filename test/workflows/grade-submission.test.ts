// GradeSubmission's branches in virtual time: fake activities on the time-skipping test server, so an hours-long
// wait costs milliseconds. The real-service suite (test/integration) stays the top layer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { SLOT_FREED_SIGNAL, type GradeSubmissionResult, type GradingStatus } from '../../src/shared/grading-types.js';
import { QUEUE_WAIT_MAX_HISTORY_EVENTS, SLOT_POLL_FALLBACK_MS } from '../../src/workflows/plan-and-wait.js';
import type { ForecastOutcome, PlanningContext } from '../../src/shared/placement-types.js';
import type { FakeActivities } from './support/fake-activities.js';
import { addSearchAttributes, bundleWorkflows, runScenario, startRig } from './support/run-scenario.js';
import { paths } from './support/scenarios.js';

const HOUR_MS = 3600_000;
const PATHS = paths(HOUR_MS);

let env: TestWorkflowEnvironment;
let rig: Awaited<ReturnType<typeof startRig>>;

before(async () => {
  const path = process.env.GG_TEMPORAL_TEST_SERVER;
  if (!path) {
    throw new Error(
      'GG_TEMPORAL_TEST_SERVER is unset: run scripts/bootstrap.sh, then tests via scripts/with-services.ts',
    );
  }
  // Activity failures are the point of several tests: only errors are worth printing.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
  });
  // One after the other: the SDK gives the JVM 5 s to listen, and webpack alongside it starves it on 2 cores.
  const start = () =>
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
  // A second try, once: under a parallel suite the JVM can miss the 5 s the SDK waits for it to listen.
  env = await start().catch(start);
  const bundle = await bundleWorkflows();
  await addSearchAttributes(env.nativeConnection);
  rig = await startRig({
    client: env.client,
    connection: env.nativeConnection,
    namespace: 'default',
    bundle,
    clock: () => env.currentTimeMs(),
  });
  // The worker's first workflow task loads the bundle into its V8 context (~3 s here): pay it before the clocks
  // of the tests start.
  await run('graded-at-once');
});

after(async () => {
  await rig?.stop();
  await env?.teardown();
});

/** Runs a named path and hands back its result and the fakes' call log. */
async function run(name: string) {
  const path = PATHS[name];
  assert.ok(path, `no path ${name}`);
  return runScenario(rig, path.scenario, async (scenarioRun) => ({
    result: await path.drive(scenarioRun),
    fakes: scenarioRun.fakes,
    handle: scenarioRun.handle,
  }));
}

/** The queued path, with the status seen while the run waited for a slot. */
async function runQueued() {
  const path = PATHS['queued-then-claimed'];
  assert.ok(path);
  return runScenario(rig, path.scenario, async (scenarioRun) => {
    const seen = await scenarioRun.reached('queued');
    return {
      result: { seen, final: await path.drive(scenarioRun) },
      fakes: scenarioRun.fakes,
      handle: scenarioRun.handle,
    };
  });
}

const eventType = proto.temporal.api.enums.v1.EventType;
const countOf = (events: proto.temporal.api.history.v1.IHistoryEvent[], type: proto.temporal.api.enums.v1.EventType) =>
  events.filter((event) => event.eventType === type).length;

const inputOf = <T>(fakes: FakeActivities, name: Parameters<FakeActivities['callsOf']>[0]): T[] =>
  fakes.callsOf(name).map((call) => call.input as T);

describe('GradeSubmission in virtual time', () => {
  it('grades at once when the plan starts now', async () => {
    const { result, fakes } = await run('graded-at-once');
    assert.deepEqual(result, {
      state: 'completed',
      runId: 'run-1',
      outcome: 'graded',
      score: 10,
      nodeName: null,
      reason: null,
    });
    assert.deepEqual(
      fakes.calls.map((call) => call.name),
      [
        'openRun',
        'storeSubmission',
        'preparePlanning',
        'forecastCarbon',
        'choosePlacement',
        'claimSlot',
        'runAutograder',
        // No releaseSlot: recordResults gives the slot back (finishRun).
        'recordResults',
        'accountCarbon',
      ],
    );
  });

  it('rejects a bad zip without planning or retrying', async () => {
    const { result, fakes } = await run('rejected-bad-zip');
    assert.ok(!(result instanceof Error));
    assert.equal(result.state, 'rejected');
    assert.equal(result.reason, 'not a zip file');
    assert.equal(fakes.callsOf('storeSubmission').length, 1);
    assert.equal(fakes.callsOf('preparePlanning').length, 0);
  });

  it('re-plans when the planned node is gone at claim, and runs where the new plan says', async () => {
    const { result, fakes } = await run('node-gone-replanned');
    assert.ok(!(result instanceof Error));
    assert.equal(result.state, 'completed');
    assert.deepEqual(
      inputOf<{ excludeNodes: string[] }>(fakes, 'preparePlanning').map((input) => input.excludeNodes),
      [[], []],
      'a vanished node is not a failed node',
    );
    assert.deepEqual(
      fakes.callsOf('runAutograder').map((call) => call.node),
      ['beta'],
    );
  });

  it('fails the run when every node is exhausted', async () => {
    const { result, fakes } = await run('nodes-exhausted');
    assert.ok(!(result instanceof Error));
    assert.equal(result.state, 'failed');
    assert.equal(result.outcome, 'infrastructure-failure');
    const [failed] = inputOf<{ reason: string }>(fakes, 'failRun');
    assert.match(failed?.reason ?? '', /tried alpha\); last error: node alpha cannot run it: image pull failed/);
  });

  it('gives a node that never picks the run up its pickup timeout, then tries another node', async () => {
    const { result, fakes, handle } = await run('pickup-timeout-other-node');
    assert.ok(!(result instanceof Error));
    assert.equal(result.state, 'completed');
    assert.deepEqual(
      inputOf<{ excludeNodes: string[] }>(fakes, 'preparePlanning').map((input) => input.excludeNodes),
      [[], ['ghost']],
    );
    const [ghostClaim, betaClaim] = fakes.callsOf('claimSlot');
    assert.ok(ghostClaim && betaClaim);
    assert.ok(betaClaim.atMs - ghostClaim.atMs >= 200, 'the next node is tried only after the pickup timeout');
    const status = await handle.query<GradingStatus>('gradingStatus');
    assert.equal(status.lastError, 'node ghost did not pick the run up within 0.2 s');
    assert.deepEqual(
      fakes.callsOf('runAutograder').map((call) => call.node),
      ['beta'],
    );
  });

  it('tries a non-retryable executor fault once, then the next node', async () => {
    const { result, fakes } = await run('node-failed-other-node');
    assert.ok(!(result instanceof Error));
    assert.equal(result.state, 'completed');
    assert.deepEqual(
      fakes.callsOf('runAutograder').map((call) => `${call.node}#${call.attempt}`),
      ['alpha#1', 'beta#1'],
    );
  });

  it('gives the failed node its slot back before the next node is claimed', async () => {
    const { fakes } = await run('node-failed-other-node');
    assert.deepEqual(
      fakes.calls
        .filter((call) => ['claimSlot', 'runAutograder', 'releaseRun', 'releaseSlot'].includes(call.name))
        .map((call) => `${call.name}${call.node ? `@${call.node}` : ''}`),
      ['claimSlot', 'runAutograder@alpha', 'releaseRun', 'releaseSlot', 'claimSlot', 'runAutograder@beta'],
    );
    assert.deepEqual(inputOf(fakes, 'releaseRun'), [{ runId: 'run-1', nodeName: 'alpha' }]);
  });

  it('fails the workflow and marks its run failed with the reason when a central activity fails for good', async () => {
    const { result, fakes } = await run('failed-activity-marks-row');
    assert.ok(result instanceof Error, 'the workflow failed');
    assert.equal(fakes.callsOf('storeSubmission').length, 1, 'a non-retryable failure is not retried');
    assert.deepEqual(inputOf(fakes, 'failRun'), [
      // Opening the row and storing are one step (openAndStoreRun): the reason names it.
      { runId: 'run-1', reason: 'workflow failed: openAndStoreRun failed: relation "submissions" is gone' },
    ]);
  });

  it('plans carbon-agnostic when every carbon provider fails', async () => {
    const { result, fakes } = await run('every-provider-failed');
    assert.ok(!(result instanceof Error));
    assert.equal(result.state, 'completed');
    // Three tries per provider (the carbon retry policy), in the configured order.
    assert.deepEqual(
      fakes.callsOf('forecastCarbon').map((call) => `${(call.input as { provider: string }).provider}#${call.attempt}`),
      ['trace#1', 'trace#2', 'trace#3', 'cas#1', 'cas#2', 'cas#3'],
    );
    const [chosen] = inputOf<{ context: PlanningContext; forecast: ForecastOutcome }>(fakes, 'choosePlacement');
    assert.equal(chosen?.forecast.provider, null);
    assert.match(chosen?.forecast.reason ?? '', /every carbon provider failed: trace \(.*\); cas \(.*\)/);
  });

  it('waits six hours re-planning hourly, and starts at the planned time, never early', async () => {
    const { result, fakes } = await run('waited-then-started');
    assert.ok(!(result instanceof Error));
    assert.equal(result.state, 'completed');
    const rounds = fakes.callsOf('choosePlacement');
    // Rounds at 0, 1, ..., 5 h, then the one at the start: re-planned on the hour and when the start comes.
    assert.equal(rounds.length, 7);
    const first = rounds[0]?.atMs ?? 0;
    for (const [index, round] of rounds.entries()) assert.ok(round.atMs >= first + index * HOUR_MS);
    const plannedStartMs = first + 6 * HOUR_MS;
    assert.ok((fakes.callsOf('claimSlot')[0]?.atMs ?? 0) >= plannedStartMs, 'claimed before the planned start');
    assert.ok((fakes.callsOf('runAutograder')[0]?.atMs ?? 0) >= plannedStartMs, 'ran before the planned start');
  });

  it('starts at once when expedited during a wait', async () => {
    const { result, fakes } = await run('expedited-mid-wait');
    assert.ok(!(result instanceof Error));
    assert.equal(result.state, 'completed');
    const planning = inputOf<{ expedite: boolean }>(fakes, 'preparePlanning');
    assert.deepEqual(
      planning.map((input) => input.expedite),
      [false, true],
    );
    const first = fakes.callsOf('choosePlacement')[0]?.atMs ?? 0;
    assert.ok((fakes.callsOf('claimSlot')[0]?.atMs ?? Infinity) < first + HOUR_MS, 'waited for the timer');
  });

  it('marks a cancelled run failed (in a non-cancellable scope) and ends cancelled', async () => {
    const { result, fakes } = await run('cancelled');
    assert.ok(result instanceof Error);
    assert.ok(result.cause instanceof CancelledFailure);
    assert.deepEqual(inputOf(fakes, 'failRun'), [{ runId: 'run-1', reason: 'cancelled by an operator' }]);
    assert.equal(fakes.callsOf('claimSlot').length, 0);
  });

  it('queues a run while every slot is busy, in its lane, and with no wake-up claims on its long fallback poll', async () => {
    const { result, fakes, handle } = await runQueued();
    assert.ok(!(result.final instanceof Error));
    assert.equal(result.final.state, 'completed');
    assert.equal(result.seen.state, 'queued');
    assert.equal(result.seen.lane, 'regrade');
    assert.ok((result.seen.queuePosition ?? 0) >= 1, 'reports its place in the queue');
    const claims = fakes.callsOf('claimSlot');
    assert.equal(claims.length, 4, 'asked again after each wait until a slot was free');
    // The poll only stands in for a lost signal: every wait is the whole fallback (of workflow time), none shorter.
    const gaps = claims.slice(1).map((call, index) => call.atMs - (claims[index]?.atMs ?? 0));
    assert.ok(
      gaps.every((gap) => gap >= SLOT_POLL_FALLBACK_MS && gap < SLOT_POLL_FALLBACK_MS + 60_000),
      `gaps ${gaps.join(', ')} ms`,
    );
    assert.equal(fakes.callsOf('failRun').length, 0, 'a busy node fails nothing');
    const status = await handle.query<GradingStatus>('gradingStatus');
    assert.equal(status.queuePosition, null);
  });

  it('claims at once each time a slot-freed signal wakes the queued run: no poll fires', async () => {
    const { result, fakes, handle } = await run('queued-then-woken');
    assert.ok(!(result instanceof Error));
    assert.equal(result.state, 'completed');
    const claims = fakes.callsOf('claimSlot');
    assert.equal(claims.length, 3, 'the first claim, then one per wake-up');
    const gaps = claims.slice(1).map((call, index) => call.atMs - (claims[index]?.atMs ?? 0));
    assert.ok(
      gaps.every((gap) => gap < SLOT_POLL_FALLBACK_MS),
      `gaps ${gaps.join(', ')} ms`,
    );
    const events = (await handle.fetchHistory()).events ?? [];
    assert.equal(countOf(events, eventType.EVENT_TYPE_TIMER_FIRED), 0, 'no fallback poll fired');
  });

  it('wakes a queued run at its spill time, before the fallback poll, to claim again', async () => {
    const { result, fakes } = await run('queued-then-spilled');
    assert.ok(!(result instanceof Error));
    assert.equal(result.state, 'completed');
    const claims = fakes.callsOf('claimSlot');
    assert.equal(claims.length, 2, 'the first claim, then one at the spill time');
    const gap = (claims[1]?.atMs ?? 0) - (claims[0]?.atMs ?? 0);
    // The scenario's spill time is HOUR_MS / 20 (3 min) after the first claim; the safety net would be 5 min.
    const spillAfterMs = HOUR_MS / 20;
    assert.ok(gap >= spillAfterMs && gap < spillAfterMs + 30_000, `claimed again after ${gap} ms`);
    assert.ok(gap < SLOT_POLL_FALLBACK_MS);
  });

  it('queues a run again for a live node that did not pick it up, and gives the node up after three misses', async () => {
    const { result, fakes } = await run('busy-node-requeued');
    assert.ok(!(result instanceof Error));
    assert.equal(result.state, 'completed');
    assert.deepEqual(
      inputOf<{ excludeNodes: string[] }>(fakes, 'preparePlanning').map((input) => input.excludeNodes),
      [[], [], [], ['ghost']],
      'busy, not dead: the node stays a candidate until its third miss',
    );
    assert.deepEqual(
      fakes.callsOf('runAutograder').map((call) => call.node),
      ['beta'],
    );
  });

  it('keeps the grade when carbon accounting fails', async () => {
    const { result, fakes } = await run('carbon-accounting-failed');
    assert.ok(!(result instanceof Error));
    assert.equal(result.state, 'completed');
    assert.equal(result.score, 10);
    assert.equal(fakes.callsOf('accountCarbon').length, 1);
  });

  it('claims at once when expedited while queued, asking for the head of the queue', async () => {
    const scenario = { nodes: ['alpha'], queuedClaims: 1_000, expeditedClaims: true, lane: 'regrade' as const };
    const { result, fakes } = await runScenario(rig, scenario, async (scenarioRun) => {
      await scenarioRun.reached('queued');
      await scenarioRun.handle.signal('expedite');
      return { result: (await scenarioRun.handle.result()) as GradeSubmissionResult, fakes: scenarioRun.fakes };
    });
    assert.equal(result.state, 'completed');
    const claims = fakes.callsOf('claimSlot');
    assert.deepEqual(
      claims.map((call) => (call.input as { expedite: boolean }).expedite),
      [false, true],
    );
    // Woken by the signal, not by a poll (the first would come SLOT_POLL_FALLBACK_MS of workflow time later).
    const gapMs = (claims[1]?.atMs ?? Infinity) - (claims[0]?.atMs ?? 0);
    assert.ok(gapMs < 2_000, `the expedited claim came ${gapMs} ms after the first`);
  });

  it('keeps each history bounded while a run waits behind 500 slot releases, by continuing as new', async () => {
    const releases = 500;
    const scenario = { nodes: ['alpha'], queuedClaims: releases, lane: 'regrade' as const };
    const { result, fakes, runs, status } = await runScenario(rig, scenario, async (scenarioRun) => {
      const { handle } = scenarioRun;
      await scenarioRun.reached('queued');
      // Each release wakes the run (signals arriving together wake it once); polls cover the rest.
      for (let i = 0; i < releases; i++) await handle.signal(SLOT_FREED_SIGNAL);
      const final = (await handle.result()) as GradeSubmissionResult;
      return {
        result: final,
        fakes: scenarioRun.fakes,
        runs: await historiesOfChain(handle.workflowId),
        status: await handle.query<GradingStatus>('gradingStatus'),
      };
    });
    assert.equal(result.state, 'completed');
    assert.equal(fakes.callsOf('claimSlot').length, releases + 1);
    assert.equal(fakes.callsOf('openRun').length, 1, 'a continued run does not open a second run row');
    assert.equal(fakes.callsOf('storeSubmission').length, 1);
    assert.equal(fakes.callsOf('runAutograder').length, 1);
    assert.ok(runs.length >= 2, `${runs.length} run(s): the wait continued as new`);
    const longest = Math.max(...runs);
    // One more wait's events may land past the check.
    assert.ok(longest <= QUEUE_WAIT_MAX_HISTORY_EVENTS + 40, `history lengths ${runs.join(', ')}`);
    assert.equal(status.lane, 'regrade', 'the state carried over');
    assert.equal(status.queuePosition, null);
  });
});

/** History lengths of a workflow's runs along its continue-as-new chain, from the latest back to the first. */
async function historiesOfChain(workflowId: string): Promise<number[]> {
  const lengths: number[] = [];
  let runId: string | null | undefined = (await env.client.workflow.getHandle(workflowId).describe()).runId;
  // Bounded: a chain longer than this means the bound did not hold.
  for (let i = 0; runId && i < 50; i++) {
    const history: proto.temporal.api.history.v1.IHistory = await env.client.workflow
      .getHandle(workflowId, runId)
      .fetchHistory();
    const events = history.events ?? [];
    lengths.push(events.length);
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
  }
  return lengths;
}

describe('what a graded run costs the Temporal server', () => {
  it('runs the central work as local activities: the grader is the only activity task the server dispatches', async () => {
    const { handle, fakes } = await run('graded-at-once');
    const events = (await handle.fetchHistory()).events ?? [];
    assert.equal(fakes.calls.length, 9, 'every step still ran (recordResults gives the slot back)');
    assert.equal(countOf(events, eventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED), 1, 'runAutograder only');
    // The patch marker and one per local activity: openAndStoreRun, planRun, forecastCarbon, choosePlacement
    // (a provider was asked between them), claimSlot, finishRun.
    assert.equal(countOf(events, eventType.EVENT_TYPE_MARKER_RECORDED), 7);
    // The first task runs up to the grader, the second (when it is done) records: no task per activity.
    assert.ok(countOf(events, eventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) <= 3, `${events.length} events`);
  });

  it('takes four local activities to grade a run with no carbon provider: open+store, plan, claim, finish', async () => {
    const { result, handle, fakes } = await runScenario(
      rig,
      { nodes: ['alpha'], providers: [] },
      async (scenarioRun) => ({
        result: (await scenarioRun.handle.result()) as GradeSubmissionResult,
        handle: scenarioRun.handle,
        fakes: scenarioRun.fakes,
      }),
    );
    assert.equal(result.state, 'completed');
    assert.deepEqual(
      fakes.calls.map((call) => call.name),
      [
        'openRun',
        'storeSubmission',
        'preparePlanning',
        'choosePlacement',
        'claimSlot',
        'runAutograder',
        'recordResults',
        'accountCarbon',
      ],
    );
    const events = (await handle.fetchHistory()).events ?? [];
    assert.equal(countOf(events, eventType.EVENT_TYPE_MARKER_RECORDED), 5, 'the patch marker and four steps');
    // Up to the grader, then after it (a third only when the test server's skipped time outlasts a task).
    assert.ok(countOf(events, eventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) <= 3, `${events.length} events`);
  });

  it('records a queued run and gives its slot back in one finishing step (no releaseSlot of its own)', async () => {
    const { result, handle, fakes } = await run('queued-without-provider');
    assert.ok(!(result instanceof Error));
    assert.equal(result.state, 'completed');
    // recordResults releases the run's slot (and wakes the next in line) in the same local activity.
    assert.deepEqual(
      fakes.calls.slice(-3).map((call) => call.name),
      ['runAutograder', 'recordResults', 'accountCarbon'],
    );
    assert.equal(fakes.callsOf('releaseSlot').length, 0);
    const events = (await handle.fetchHistory()).events ?? [];
    // The patch, open+store, plan, two claims (queued, then claimed on the signal), finish.
    assert.equal(countOf(events, eventType.EVENT_TYPE_MARKER_RECORDED), 6);
  });

  it('writes its memo and search attributes where it rests, not at every step or new place in line', async () => {
    const { handle } = await runQueued();
    const events = (await handle.fetchHistory()).events ?? [];
    // queued (its place changed three times), running, completed; and the patch's TemporalChangeVersion.
    assert.equal(countOf(events, eventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES), 4);
    assert.equal(countOf(events, eventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED), 3);
  });
});
