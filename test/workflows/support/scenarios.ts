// Every path through GradeSubmission as a scenario of fake activities plus how a client drives it. The workflow
// tests run them in virtual time (hour = an hour) and assert; scripts/record-histories.ts runs them on a dev
// server in real time (hour = a second) and keeps each server history for the replay test.
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { NODE_GONE_ERROR, SLOT_FREED_SIGNAL, type GradeSubmissionResult } from '../../../src/shared/grading-types.js';
import { waitFor } from '../../support/wait-for.js';
import { GRADED, invalidSubmission, type Scenario } from './fake-activities.js';
import type { ScenarioRun } from './run-scenario.js';

export interface Path {
  scenario: Scenario & { absentNodes?: string[] };
  /** Drives the run to its end; resolves with the result, or with the failure a cancelled run ends in. */
  drive(run: ScenarioRun): Promise<GradeSubmissionResult | WorkflowFailedError>;
}

const result = (run: ScenarioRun): Promise<GradeSubmissionResult> =>
  run.handle.result() as Promise<GradeSubmissionResult>;

/** Resolves with the failure a run that must fail ends in. */
const failure = (run: ScenarioRun): Promise<WorkflowFailedError> =>
  result(run).then(
    () => {
      throw new Error(`${run.handle.workflowId} completed; it should have failed`);
    },
    (error: unknown) => {
      if (error instanceof WorkflowFailedError) return error;
      throw error;
    },
  );

const nodeFailedOtherNode: Path = {
  scenario: {
    nodes: ['alpha', 'beta'],
    runAutograder: (node) => {
      if (node === 'alpha') throw ApplicationFailure.nonRetryable('pod unschedulable', 'PodUnschedulable');
      return GRADED;
    },
  },
  drive: result,
};

/** A plan that starts `waitHours` after the first round and re-plans every hour until then. */
export function waitThenStart(hourMs: number, waitHours: number): Scenario['plan'] {
  let startMs: number | null = null;
  return ({ nowMs, nodes }) => {
    startMs ??= nowMs + waitHours * hourMs;
    const nodeName = nodes[0] ?? '';
    if (startMs <= nowMs) return { nodeName, startMs, nextPlanningMs: null };
    return { nodeName, startMs, nextPlanningMs: nowMs + hourMs };
  };
}

/**
 * The named paths, with waits measured in `hourMs` (3 600 000 in virtual time). `pickupTimeoutSec` is real time
 * on both servers: the test server holds its clock while an activity task waits for a poller (a 60 s pickup
 * timeout took 60 s of wall time there, even across `env.sleep`).
 */
export function paths(hourMs: number, pickupTimeoutSec = 0.2): Record<string, Path> {
  return {
    'graded-at-once': { scenario: { nodes: ['alpha'] }, drive: result },
    'waited-then-started': {
      scenario: { nodes: ['alpha'], plan: waitThenStart(hourMs, 6) },
      drive: result,
    },
    'expedited-mid-wait': {
      scenario: { nodes: ['alpha'], plan: waitThenStart(hourMs, 6) },
      async drive(run) {
        await run.reached('waiting');
        await run.handle.signal('expedite');
        return result(run);
      },
    },
    'rejected-bad-zip': { scenario: { nodes: ['alpha'], storeSubmission: invalidSubmission }, drive: result },
    'node-gone-replanned': {
      scenario: {
        nodes: ['alpha', 'beta'],
        plan: ({ round, nowMs }) => ({
          nodeName: round === 1 ? 'alpha' : 'beta',
          startMs: nowMs,
          nextPlanningMs: null,
        }),
        claimNode: (node, claim) => {
          if (claim === 1) throw ApplicationFailure.nonRetryable(`node ${node} stopped checking in`, NODE_GONE_ERROR);
        },
      },
      drive: result,
    },
    'node-failed-other-node': nodeFailedOtherNode,
    // The same path since the release-failed-node-slot patch: alpha's slot is released before beta is claimed.
    'node-failed-other-node-releases-slot': nodeFailedOtherNode,
    // A central activity failing for good (here at once; in production after its 20 attempts) fails the workflow.
    'failed-activity-marks-row': {
      scenario: {
        nodes: ['alpha'],
        storeSubmission: () => Promise.reject(ApplicationFailure.nonRetryable('relation "submissions" is gone')),
      },
      drive: failure,
    },
    'pickup-timeout-other-node': {
      scenario: { nodes: ['ghost', 'beta'], absentNodes: ['ghost'], pickupTimeoutSec },
      drive: result,
    },
    // All slots busy: queued (in the regrade lane) three times, then a slot comes free.
    'queued-then-claimed': {
      scenario: { nodes: ['alpha'], queuedClaims: 3, lane: 'regrade' },
      drive: result,
    },
    // The same wait as production sees it: each release signals the run first in line, which claims at once
    // (no poll fires); here all slots stay busy for two wake-ups, then the third claims.
    'queued-then-woken': {
      scenario: { nodes: ['alpha'], queuedClaims: 2, lane: 'regrade' },
      async drive(run) {
        await run.reached('queued');
        for (let claims = 1; claims <= 2; claims++) {
          await run.handle.signal(SLOT_FREED_SIGNAL);
          await waitFor(() => run.fakes.callsOf('claimSlot').length > claims, {
            description: `claim ${claims + 1} of ${run.handle.workflowId}`,
            intervalMs: 20,
          });
        }
        return result(run);
      },
    },
    // No carbon provider (as `up` and the benches run): planning is one step, and the queued run's slot goes back in
    // its finishing step.
    'queued-without-provider': {
      scenario: { nodes: ['alpha'], providers: [], queuedClaims: 1 },
      async drive(run) {
        await run.reached('queued');
        await run.handle.signal(SLOT_FREED_SIGNAL);
        return result(run);
      },
    },
    // Queued with nowhere to go until its spill time (its deadline less a minute): no release wakes it, so its
    // wait ends there and it claims again (and, in production, may take a free slot elsewhere).
    'queued-then-spilled': {
      scenario: { nodes: ['alpha'], queuedClaims: 1, lane: 'live', spillAfterMs: hourMs / 20 },
      drive: result,
    },
    // A node still checking in that leaves the run in its queue is busy: the run is queued again for it, and only
    // after three misses in a row is the node given up on.
    'busy-node-requeued': {
      scenario: { nodes: ['ghost', 'beta'], absentNodes: ['ghost'], liveNodes: ['ghost'], pickupTimeoutSec },
      drive: result,
    },
    'nodes-exhausted': {
      scenario: {
        nodes: ['alpha'],
        runAutograder: () => {
          throw ApplicationFailure.nonRetryable('image pull failed', 'ImagePull');
        },
      },
      drive: result,
    },
    'every-provider-failed': {
      scenario: {
        nodes: ['alpha'],
        providers: ['trace', 'cas'],
        forecastCarbon: ({ provider }) => Promise.reject(new Error(`${provider} is down`)),
      },
      drive: result,
    },
    cancelled: {
      scenario: { nodes: ['alpha'], plan: waitThenStart(hourMs, 6) },
      async drive(run) {
        await run.reached('waiting');
        await run.handle.cancel();
        return failure(run);
      },
    },
    'carbon-accounting-failed': {
      scenario: {
        nodes: ['alpha'],
        accountCarbon: () => Promise.reject(ApplicationFailure.nonRetryable('no intensity for the run interval')),
      },
      drive: result,
    },
  };
}
