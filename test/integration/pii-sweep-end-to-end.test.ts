// The whole path, not only storage: a submission published like Gradescope's hook, stored, graded and recorded.
// Afterwards no table, no zip kept anywhere, no Temporal history or memo and no log line names its students.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { createLogger } from '../../src/observability/logger.js';
import { ingestWorkflowId } from '../../src/shared/grading-types.js';
import { startGradingStack, temporalLogTaps, type GradingStack } from '../support/grading-stack.js';
import { findNeedles, textsOfStoredZips, textsOfTables, textsOfZip, type SearchedText } from '../support/pii-search.js';
import { buildPiiSubmissionZip, PII_NEEDLES } from '../support/pii-submission.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';

/** A history or memo as text, payloads decoded: JSON alone would show their bytes as numbered fields. */
function asText(value: unknown): string {
  return JSON.stringify(value, (_key, field: unknown) =>
    field instanceof Uint8Array ? Buffer.from(field).toString('utf8') : field,
  );
}

void describe('PII sweep end to end: published, stored, graded and recorded', () => {
  const logLines: string[] = [];
  const tap = (line: string) => logLines.push(line);
  let stack: GradingStack;
  let database: DatabaseHandle;
  before(async () => {
    temporalLogTaps.add(tap);
    stack = await startGradingStack({ logger: createLogger({}, tap) });
    database = connectDatabase(stack.config.DATABASE_URL);
  });
  after(async () => {
    temporalLogTaps.delete(tap);
    await database?.close();
    await stack?.stop();
  });

  void it('leaves no trace of the students in any table, zip, history, memo or log line', async () => {
    const zip = await buildPiiSubmissionZip();
    const file = await writeZipFile(zip);
    await mosquittoPub(brokerOf(stack.config), file.path);
    const workflowId = ingestWorkflowId(file.sha256);
    const run = await stack.waitForRun(
      workflowId,
      (row) => ['completed', 'failed', 'rejected'].includes(row.state),
      120_000,
    );
    assert.equal(run.state, 'completed', run.failureReason ?? '');
    const handle = stack.temporal.workflow.getHandle(workflowId);
    await handle.result();

    const description = await handle.describe();
    const texts: SearchedText[] = [
      ...(await textsOfTables(database)),
      ...(await textsOfStoredZips(database)),
      { where: 'Temporal history', text: asText(await handle.fetchHistory()) },
      { where: 'memo', text: asText(description.memo) },
      { where: 'search attributes', text: asText(description.searchAttributes) },
      ...logLines.map((line, index) => ({ where: `log line ${index}`, text: line })),
    ];
    assert.ok(logLines.length > 10, `the processes logged ${logLines.length} lines`);
    assert.ok(
      logLines.some((line) => line.includes(file.sha256)),
      'the logs follow this submission',
    );
    assert.deepEqual(findNeedles(texts, PII_NEEDLES), []);
    // The same sweep finds the students in what was published, or it would prove nothing.
    assert.ok(findNeedles(await textsOfZip(zip, 'published zip'), PII_NEEDLES).length > 30);
  });
});
