// bench:batch's Temporal cost per graded run, read back from the server after the burst: the events of each kind
// in the runs' histories. Each workflow task is a round trip through the server and an activation of the workflow
// worker's threads; each timer, signal and local activity adds events the server writes and the worker replays.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const EventType = proto.temporal.api.enums.v1.EventType;

/** What the table reports, in its order, with the event type each one counts. */
const KINDS = {
  'workflow tasks': EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  'timers started': EventType.EVENT_TYPE_TIMER_STARTED,
  'timers fired': EventType.EVENT_TYPE_TIMER_FIRED,
  'signals received': EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
  'markers (local activities, patches)': EventType.EVENT_TYPE_MARKER_RECORDED,
  'activity tasks': EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
  'search attribute upserts': EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
  'memo writes': EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
  'continued as new': EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
} as const;
type HistoryKind = keyof typeof KINDS | 'events';

export interface HistoryCounts {
  /** Workflows read. */
  workflows: number;
  /** Totals over all of them (every run of a continue-as-new chain). */
  total: Record<HistoryKind, number>;
}

/** Runs of one workflow's continue-as-new chain read at most: a longer chain is reported as it stands. */
const MAX_CHAIN = 20;

/** Counts the events of every run of each workflow (the latest run and the runs it continued from). */
export async function countHistories(client: Client, workflowIds: readonly string[]): Promise<HistoryCounts> {
  const total = Object.fromEntries([...Object.keys(KINDS), 'events'].map((kind) => [kind, 0])) as Record<
    HistoryKind,
    number
  >;
  for (const workflowId of workflowIds) {
    let runId: string | null | undefined;
    for (let i = 0; i < MAX_CHAIN; i++) {
      const history = await client.workflow.getHandle(workflowId, runId ?? undefined).fetchHistory();
      const events = history.events ?? [];
      total.events += events.length;
      for (const [kind, type] of Object.entries(KINDS)) {
        total[kind as HistoryKind] += events.filter((event) => event.eventType === type).length;
      }
      runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
      if (!runId) break;
    }
  }
  return { workflows: workflowIds.length, total };
}

/** One row per kind, one column per scenario: the mean per workflow. */
export function formatHistoryCounts(rows: { scenario: string; counts: HistoryCounts }[]): string {
  const kinds: HistoryKind[] = ['events', ...(Object.keys(KINDS) as HistoryKind[])];
  const headers = ['history events per graded run', ...rows.map((r) => r.scenario)];
  const perRun = (counts: HistoryCounts, kind: HistoryKind) =>
    counts.workflows === 0 ? '-' : (counts.total[kind] / counts.workflows).toFixed(2);
  const body = kinds.map((kind) => [kind, ...rows.map((r) => perRun(r.counts, kind))]);
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [line(headers), ...body.map(line)].join('\n');
}
