// Publishing to a deployed stack's broker and reading what it graded: shared by the compose and fleet tests.
import { inArray } from 'drizzle-orm';
import type { DatabaseHandle } from '../../src/db/client.js';
import { gradingRuns } from '../../src/db/schema.js';
import { ingestWorkflowId } from '../../src/shared/grading-types.js';
import { mosquittoPub, writeZipFile, type Broker } from '../support/publish.js';
import { waitFor } from '../support/wait-for.js';

export type GradingRun = typeof gradingRuns.$inferSelect;

/** Publishes a zip until the broker accepts it, as the hook would retry; returns the workflow id it starts. */
export async function publishUntilAccepted(broker: Broker, zip: Uint8Array, label: string): Promise<string> {
  const file = await writeZipFile(zip);
  await waitFor(() => mosquittoPub(broker, file.path).then(() => true), {
    description: `the broker accepting ${label}`,
    timeoutMs: 90_000,
    intervalMs: 1_000,
  });
  return ingestWorkflowId(file.sha256);
}

/** The run rows of these workflows, once every one is final (completed, failed or rejected). */
export async function waitForFinalRuns(
  database: DatabaseHandle,
  workflowIds: readonly string[],
  timeoutMs: number,
): Promise<GradingRun[]> {
  return waitFor(
    async () => {
      const runs = await database.db
        .select()
        .from(gradingRuns)
        .where(inArray(gradingRuns.workflowId, [...workflowIds]));
      const done = runs.filter((run) => ['completed', 'failed', 'rejected'].includes(run.state));
      return done.length === workflowIds.length ? runs : undefined;
    },
    { description: `${String(workflowIds.length)} runs final in the stack's PostgreSQL`, timeoutMs, intervalMs: 1_000 },
  );
}

/** Until its first subscription the broker has no session for the bridge and would drop a publish. */
export async function waitForBridgeSubscribed(
  stack: { logs(service: string): Promise<string> },
  timeoutMs = 120_000,
): Promise<void> {
  await waitFor(async () => (await stack.logs('bridge')).includes('"subscribed"'), {
    description: 'the bridge subscribed',
    timeoutMs,
    intervalMs: 1_000,
  });
}
