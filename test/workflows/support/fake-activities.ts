// Typed fakes of the activities GradeSubmission proxies. Each fake answers in workflow time (a task activity's
// scheduled timestamp comes from the server, a local one's from the rig's clock, so it is skipped time on the test
// server), and logs its calls so that tests can assert what the workflow asked for and when.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { CarbonActivities } from '../../../src/activities/carbon-activities.js';
import { createCombinedSteps, type CombinedSteps } from '../../../src/activities/combined-steps.js';
import type { NodeActivities } from '../../../src/activities/node-activities.js';
import type { PlacementActivities } from '../../../src/activities/placement-activities.js';
import type { ResultsActivities } from '../../../src/activities/results-activities.js';
import type { RunActivities } from '../../../src/activities/run-activities.js';
import type { SlotActivities } from '../../../src/activities/slot-activities.js';
import type { StorageActivities } from '../../../src/activities/storage-activities.js';
import {
  INVALID_SUBMISSION_ERROR,
  NODES_EXHAUSTED_ERROR,
  type ExecutionSummary,
  type Placement,
} from '../../../src/shared/grading-types.js';
import type { PlanningContext, RunPlan } from '../../../src/shared/placement-types.js';

/** Every activity the orchestrator's queue serves. */
export type CentralActivities = RunActivities &
  StorageActivities &
  ResultsActivities &
  CarbonActivities &
  PlacementActivities &
  SlotActivities &
  CombinedSteps;

/** The calls logged: the single steps (a combined step logs each of its parts, as the real ones run them). */
type ActivityName = Exclude<keyof CentralActivities, keyof CombinedSteps> | keyof NodeActivities;

export interface Call {
  name: ActivityName;
  /** The node whose queue served it, for runAutograder. */
  node: string | null;
  input: unknown;
  /** Workflow time the attempt was scheduled at. */
  atMs: number;
  attempt: number;
}

/** What one choosePlacement call sees; a scenario's `plan` turns it into a plan. */
export interface PlanCall {
  /** 1 for the first planning round of the run. */
  round: number;
  nowMs: number;
  /** The candidate nodes not yet excluded, in order. */
  nodes: string[];
  forecastProvider: string | null;
  forecastReason: string | null;
}

/** The behaviour a test changes; everything else grades at once on the first node. */
export interface Scenario {
  /** Candidate node names, in planning order. */
  nodes: string[];
  /** Carbon providers tried in order. */
  providers?: string[];
  plan?: (call: PlanCall) => Pick<RunPlan, 'nodeName' | 'startMs' | 'nextPlanningMs'> & Partial<RunPlan>;
  storeSubmission?: CentralActivities['storeSubmission'];
  forecastCarbon?: CentralActivities['forecastCarbon'];
  accountCarbon?: CentralActivities['accountCarbon'];
  /** Called with the node and the claim's number (1-based, claimNode and claimSlot alike); may throw NodeGone. */
  claimNode?: (nodeName: string, claim: number) => void;
  /** Thrown by preparePlanning when this many nodes are excluded (default: all of them). */
  exhaustedAfter?: number;
  /** What a node's runAutograder does; the default grades. */
  runAutograder?: (nodeName: string) => ExecutionSummary;
  /** claimSlot answers `queued` (all nodes busy) this many times before it claims; default 0. */
  queuedClaims?: number;
  /**
   * A queued claim reports the run's spill time this long after its first claim (until that has passed), as a run
   * with a spill order does; default none.
   */
  spillAfterMs?: number;
  /** An expedited claim takes the slot at once, as the head of the queue does; default false. */
  expeditedClaims?: boolean;
  /** The lane claimSlot reports; default live. */
  lane?: 'live' | 'regrade';
  /** Nodes releaseSlot reports as still checking in (busy, not dead); default none. */
  liveNodes?: string[];
  /** How long a node may leave the run unclaimed before another is tried. */
  pickupTimeoutSec?: number;
}

export const GRADED: ExecutionSummary = {
  outcome: 'completed',
  exitCode: 0,
  imageTag: 'greengrader/fake:1',
  startedAt: null,
  finishedAt: null,
  cpuTimeMs: 1200,
};

/** A node's task queue in one test: queues are never shared between tests. */
export function nodeQueue(prefix: string, nodeName: string): string {
  return `${prefix}-node-${nodeName}`;
}

export interface FakeActivities {
  central: CentralActivities;
  node(nodeName: string): NodeActivities;
  calls: Call[];
  callsOf(name: ActivityName): Call[];
}

/** The server's clock: virtual on the time-skipping test server. */
export type ServerClock = () => Promise<number>;

export function createFakeActivities(
  prefix: string,
  scenario: Scenario,
  clock: ServerClock = () => Promise.resolve(Date.now()),
): FakeActivities {
  const calls: Call[] = [];
  const log = async (name: ActivityName, input: unknown, node: string | null = null): Promise<number> => {
    const info = Context.current().info;
    const call = { name, node, input, atMs: info.currentAttemptScheduledTimestampMs, attempt: info.attempt };
    calls.push(call);
    // A local activity is scheduled by the worker on its own clock, not the server's (virtual) one.
    if (info.isLocal) call.atMs = await clock();
    return call.atMs;
  };
  const providers = scenario.providers ?? ['trace'];
  let rounds = 0;
  let claims = 0;
  /** When the first claimSlot came (the fakes' clock): the scenario's spill time counts from it. */
  let firstClaimMs: number | null = null;
  const placementOn = (nodeName: string): Placement => ({
    nodeName,
    taskQueue: nodeQueue(prefix, nodeName),
    region: 'us-west',
    zone: 'US-CAL-CISO',
    runTimeoutSec: 600,
    pickupTimeoutSec: scenario.pickupTimeoutSec ?? 60,
    maxAttempts: 2,
  });

  const parts: Omit<CentralActivities, keyof CombinedSteps> = {
    async openRun(input) {
      await log('openRun', input);
      return 'run-1';
    },
    async failRun(input) {
      await log('failRun', input);
    },
    async releaseRun(input) {
      await log('releaseRun', input);
    },
    async storeSubmission(input) {
      await log('storeSubmission', input);
      if (scenario.storeSubmission) return scenario.storeSubmission(input);
      return { submissionId: 'submission-1', gradescopeSubmissionId: 101, assignmentId: 7, courseId: 3 };
    },
    async preparePlanning(input) {
      const nowMs = await log('preparePlanning', input);
      const live = scenario.nodes.filter((node) => !input.excludeNodes.includes(node));
      if (input.excludeNodes.length >= (scenario.exhaustedAfter ?? scenario.nodes.length)) {
        throw ApplicationFailure.nonRetryable('every live node already failed this run', NODES_EXHAUSTED_ERROR);
      }
      const context: PlanningContext = {
        policy: 'temporal',
        candidates: live.map((id) => ({
          id,
          kind: 'docker-node',
          region: 'us-west',
          zone: 'US-CAL-CISO',
          freeSlots: 1,
        })),
        homeCandidateId: live[0] ?? '',
        deadlineMs: nowMs + 24 * 3600_000,
        deadlineRule: 'fake: a day',
        estimatedDurationMs: 60_000,
        providers,
        forecastRequest: { zones: ['US-CAL-CISO'], fromMs: nowMs, toMs: nowMs + 24 * 3600_000 },
        refreshMs: 3600_000,
      };
      return context;
    },
    async forecastCarbon(input) {
      await log('forecastCarbon', input);
      if (scenario.forecastCarbon) return scenario.forecastCarbon(input);
      return { provider: input.provider, forecasts: [], missing: [] };
    },
    async choosePlacement(input) {
      const nowMs = await log('choosePlacement', input);
      rounds += 1;
      const nodes = input.context.candidates.map((candidate) => candidate.id);
      const call: PlanCall = {
        round: rounds,
        nowMs,
        nodes,
        forecastProvider: input.forecast.provider,
        forecastReason: input.forecast.reason,
      };
      const plan = scenario.plan?.(call) ?? { nodeName: nodes[0] ?? '', startMs: nowMs, nextPlanningMs: null };
      return {
        policy: input.forecast.provider === null ? 'carbon-agnostic' : 'temporal',
        expectedIntensityGCo2PerKwh: null,
        fallbackReason: input.forecast.reason,
        plannedAtMs: nowMs,
        ...plan,
      };
    },
    async claimNode(input) {
      await log('claimNode', input);
      claims += 1;
      scenario.claimNode?.(input.nodeName, claims);
      return placementOn(input.nodeName);
    },
    async claimSlot(input) {
      const atMs = await log('claimSlot', input);
      firstClaimMs ??= atMs;
      claims += 1;
      scenario.claimNode?.(input.nodeName, claims);
      const lane = scenario.lane ?? 'live';
      const jumps = scenario.expeditedClaims === true && input.expedite === true;
      if (!jumps && claims <= (scenario.queuedClaims ?? 0)) {
        const position = (scenario.queuedClaims ?? 0) - claims + 1;
        const spillAtMs = scenario.spillAfterMs === undefined ? null : firstClaimMs + scenario.spillAfterMs;
        return { kind: 'queued', lane, position, spillAtMs: spillAtMs !== null && spillAtMs > atMs ? spillAtMs : null };
      }
      return { kind: 'claimed', lane, placement: placementOn(input.nodeName) };
    },
    async releaseSlot(input) {
      await log('releaseSlot', input);
      return { nodeLive: scenario.liveNodes?.includes(input.nodeName) ?? false };
    },
    async recordResults(input) {
      await log('recordResults', input);
      return { state: 'completed', runId: input.runId, outcome: 'graded', score: 10, nodeName: null, reason: null };
    },
    async accountCarbon(input) {
      await log('accountCarbon', input);
      if (scenario.accountCarbon) return scenario.accountCarbon(input);
      return { emissionsGCo2: 0.4, savingGCo2: 0.1 };
    },
  };
  const central: CentralActivities = { ...parts, ...createCombinedSteps(parts) };

  const node = (nodeName: string): NodeActivities => ({
    async runAutograder(input) {
      await log('runAutograder', input, nodeName);
      return scenario.runAutograder?.(nodeName) ?? GRADED;
    },
  });

  return { central, node, calls, callsOf: (name) => calls.filter((call) => call.name === name) };
}

/** The failure a bad zip produces in storeSubmission. */
export function invalidSubmission(): never {
  throw ApplicationFailure.create({ message: 'not a zip file', type: INVALID_SUBMISSION_ERROR, nonRetryable: true });
}
