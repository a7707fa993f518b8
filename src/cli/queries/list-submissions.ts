import { and, desc, eq, inArray, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { gradingRuns, runSlotClaims, submissions } from '../../db/schema.js';
import type { RunLane } from '../../shared/lanes.js';
import { iso, slotColumns } from './run-view.js';

/** The latest run of a submission, as `list --json` prints it. */
interface LatestRunView {
  workflowId: string;
  trigger: 'ingest' | 'rerun';
  state: string;
  outcome: string | null;
  score: number | null;
  nodeName: string | null;
  receivedAt: string;
  recordedAt: string | null;
  /** Priority lane, once the run asked for a slot (null before). */
  lane: RunLane | null;
  /** Waiting in its lane's queue for a free slot (the row's state is `queued`). */
  waitingForSlot: boolean;
}

/** One stored submission (payload) in `list --json`. */
interface SubmissionListItem {
  gradescopeSubmissionId: number;
  payloadSha256: string;
  courseId: number;
  assignmentId: number;
  assignmentTitle: string;
  gradescopeCreatedAt: string;
  storedAt: string;
  gradescopeScore: number | null;
  runCount: number;
  latestRun: LatestRunView | null;
}

/** `greengrader list --json`. */
export interface SubmissionList {
  submissions: SubmissionListItem[];
}

export interface ListSubmissionsOptions {
  /** Most recent first, at most this many. */
  limit: number;
  assignmentId?: number;
}

/** The most recently stored submissions with their run count and latest run. */
export async function listSubmissions(db: Database, options: ListSubmissionsOptions): Promise<SubmissionList> {
  const filters: SQL[] = [];
  if (options.assignmentId !== undefined) filters.push(eq(submissions.assignmentId, options.assignmentId));
  const stored = await db
    .select({
      gradescopeSubmissionId: submissions.gradescopeSubmissionId,
      payloadSha256: submissions.payloadSha256,
      courseId: submissions.courseId,
      assignmentId: submissions.assignmentId,
      assignmentTitle: submissions.assignmentTitle,
      gradescopeCreatedAt: submissions.gradescopeCreatedAt,
      storedAt: submissions.storedAt,
      gradescopeScore: submissions.gradescopeScore,
    })
    .from(submissions)
    .where(and(...filters))
    .orderBy(desc(submissions.storedAt), desc(submissions.gradescopeSubmissionId))
    .limit(options.limit);
  const runs =
    stored.length === 0
      ? []
      : await db
          .select({
            payloadSha256: gradingRuns.payloadSha256,
            workflowId: gradingRuns.workflowId,
            trigger: gradingRuns.trigger,
            state: gradingRuns.state,
            outcome: gradingRuns.outcome,
            score: gradingRuns.score,
            nodeName: gradingRuns.nodeName,
            receivedAt: gradingRuns.receivedAt,
            recordedAt: gradingRuns.recordedAt,
            ...slotColumns,
          })
          .from(gradingRuns)
          .leftJoin(runSlotClaims, eq(runSlotClaims.runId, gradingRuns.id))
          .where(
            inArray(
              gradingRuns.payloadSha256,
              stored.map((s) => s.payloadSha256),
            ),
          )
          .orderBy(desc(gradingRuns.receivedAt), desc(gradingRuns.workflowId));
  return {
    submissions: stored.map((s) => {
      const own = runs.filter((run) => run.payloadSha256 === s.payloadSha256);
      const latest = own[0];
      return {
        ...s,
        gradescopeCreatedAt: s.gradescopeCreatedAt.toISOString(),
        storedAt: s.storedAt.toISOString(),
        runCount: own.length,
        latestRun:
          latest === undefined
            ? null
            : {
                workflowId: latest.workflowId,
                trigger: latest.trigger,
                state: latest.state,
                outcome: latest.outcome,
                score: latest.score,
                nodeName: latest.nodeName,
                receivedAt: latest.receivedAt.toISOString(),
                recordedAt: iso(latest.recordedAt),
                lane: latest.lane,
                waitingForSlot: latest.waitingForSlot,
              },
      };
    }),
  };
}
