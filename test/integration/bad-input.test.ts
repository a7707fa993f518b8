import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import JSZip from 'jszip';
import { gradingRuns, rawPayloads, rejectedMessages, submissions } from '../../src/db/schema.js';
import { ingestWorkflowId, type GradeSubmissionResult } from '../../src/shared/grading-types.js';
import { buildGradescopeZip, defaultMetadata, defaultResults } from '../support/gradescope-zip.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';
import { waitFor } from '../support/wait-for.js';

const MB = 1024 * 1024;

async function zipOf(files: Record<string, string | Uint8Array>): Promise<Uint8Array> {
  const zip = new JSZip();
  for (const [path, content] of Object.entries(files)) zip.file(path, content, { createFolders: false });
  return zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' });
}

describe('bad input', () => {
  let stack: GradingStack;
  before(async () => {
    stack = await startGradingStack({
      env: { MAX_PAYLOAD_BYTES: String(2 * MB), MAX_UNCOMPRESSED_BYTES: String(10 * MB), GRADER_TIMEOUT_SEC: '4' },
    });
  });
  after(async () => {
    await stack?.stop();
  });

  async function publish(bytes: Uint8Array) {
    const file = await writeZipFile(bytes);
    await mosquittoPub(brokerOf(stack.config), file.path);
    return file.sha256;
  }

  /** The message is refused at the bridge and kept, with its reason, in rejected_messages. */
  async function expectRefusedAtBridge(bytes: Uint8Array, code: string) {
    const sha256 = await publish(bytes);
    const row = await waitFor(
      async () =>
        (await stack.database.db.select().from(rejectedMessages).where(eq(rejectedMessages.sha256, sha256)))[0],
      { timeoutMs: 20_000, description: `rejected message ${code}` },
    );
    assert.equal(row.rejectionCode, code);
    assert.ok((row.bytes?.length ?? 0) > 0, 'the bytes are kept for inspection');
  }

  /** The payload is stored, then quarantined by storeSubmission; the workflow ends as rejected. */
  async function expectQuarantined(bytes: Uint8Array, code: string): Promise<string> {
    const sha256 = await publish(bytes);
    const run = await stack.waitForRun(ingestWorkflowId(sha256));
    assert.equal(run.state, 'rejected');
    assert.match(run.failureReason ?? '', new RegExp(code));
    const [raw] = await stack.database.db.select().from(rawPayloads).where(eq(rawPayloads.sha256, sha256));
    assert.equal(raw?.status, 'rejected');
    assert.equal(raw?.rejectionCode, code);
    assert.equal(raw?.bytes?.length, bytes.length, 'the raw bytes are kept (in plaintext: this stack has no key)');
    const result = (await stack.temporal.workflow
      .getHandle(ingestWorkflowId(sha256))
      .result()) as GradeSubmissionResult;
    assert.equal(result.state, 'rejected');
    return sha256;
  }

  it('refuses a payload that is not a zip', () => expectRefusedAtBridge(Buffer.from('hello, not a zip'), 'not-a-zip'));

  it('refuses an oversized payload and keeps its first bytes', async () => {
    const big = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), randomBytes(3 * MB)]);
    await expectRefusedAtBridge(big, 'oversized');
  });

  it('quarantines a truncated zip', async () => {
    const good = await buildGradescopeZip({ hostname: 'truncated\n' });
    await expectQuarantined(good.subarray(0, Math.floor(good.length / 2)), 'truncated-zip');
  });

  it('quarantines a zip bomb without inflating it', async () => {
    const bomb = await zipOf({ 'gradescope_data/autograder/submission/zeros.bin': new Uint8Array(50 * MB) });
    await expectQuarantined(bomb, 'too-large-uncompressed');
  });

  it('quarantines a zip whose entries escape its root', async () => {
    const zip = await zipOf({
      'gradescope_data/autograder/submission_metadata.json': JSON.stringify(defaultMetadata()),
      'gradescope_data/../../etc/evil': 'x',
    });
    await expectQuarantined(zip, 'path-traversal');
  });

  it('quarantines a zip without submission_metadata.json', async () => {
    await expectQuarantined(await buildGradescopeZip({ metadata: null }), 'missing-metadata');
  });

  it('quarantines metadata with wrong types', async () => {
    const metadata = { ...defaultMetadata(), id: 'not-a-number' };
    await expectQuarantined(await buildGradescopeZip({ metadata }), 'invalid-metadata');
  });

  it('records a grader that writes no results.json, loops forever or writes garbage, and keeps grading', async () => {
    const graders = {
      'no-results': 'echo "forgot the results"',
      timeout: 'while true; do :; done',
      'invalid-results': 'echo "{not json" > /autograder/results/results.json',
    } as const;
    const shas = await Promise.all(
      Object.entries(graders).map(async ([label, body]) =>
        publish(
          await buildGradescopeZip({ sourceFiles: { run_autograder: `#!/bin/bash\n${body}\n` }, hostname: label }),
        ),
      ),
    );
    const good = await publish(await buildGradescopeZip({ hostname: 'still-grading\n' }));
    for (const [index, outcome] of Object.keys(graders).entries()) {
      const run = await stack.waitForRun(ingestWorkflowId(shas[index] ?? ''));
      assert.equal(run.state, 'completed', `${outcome}: ${run.failureReason}`);
      assert.equal(run.outcome, outcome);
      assert.equal(run.score, null);
      assert.equal(run.attempts, 1, `${outcome} is a result, never retried`);
    }
    const run = await stack.waitForRun(ingestWorkflowId(good));
    assert.equal(run.outcome, 'graded');
    assert.equal(run.score, 10);
  });

  it('stores and grades a submission whose metadata and results.json hold NUL and unpaired surrogates', async () => {
    const metadata = defaultMetadata();
    const [first] = metadata.users;
    assert.ok(first);
    first.name = 'Ada\u0000Lovelace';
    metadata.assignment.title = 'Homework \ud800 1';
    const results = defaultResults();
    results['tests'] = [{ name: 'add\udfff', score: 10, max_score: 10, output: 'ok\u0000' }];
    const sha256 = await publish(await buildGradescopeZip({ metadata, results, hostname: 'unstorable-text\n' }));
    const run = await stack.waitForRun(ingestWorkflowId(sha256));
    assert.equal(run.state, 'completed', run.failureReason ?? '');
    assert.equal(run.outcome, 'graded');
    const [stored] = await stack.database.db.select().from(submissions).where(eq(submissions.payloadSha256, sha256));
    assert.ok(stored);
    assert.equal(stored.assignmentTitle, 'Homework \uFFFD 1');
    const storedTests = (stored.gradescopeResults as { tests?: { name?: string; output?: string }[] }).tests;
    assert.deepEqual(
      storedTests?.map((test) => [test.name, test.output]),
      [['add\uFFFD', 'ok\uFFFD']],
    );
    assert.ok(
      (stored.warnings as string[]).some((warning) => /^\d+ characters PostgreSQL cannot store/.test(warning)),
      JSON.stringify(stored.warnings),
    );
  });

  it('records a grader that prints NUL bytes and puts NUL and unpaired surrogates in its results.json', async () => {
    const body = [
      "printf 'before\\0after\\n'",
      `printf '%s' '{"score": 7, "tests": [{"name": "t\\u0000", "score": 7, "output": "x\\ud800y"}]}' > /autograder/results/results.json`,
    ].join('\n');
    const sha256 = await publish(
      await buildGradescopeZip({ sourceFiles: { run_autograder: `#!/bin/bash\n${body}\n` }, hostname: 'nul-grader\n' }),
    );
    const run = await stack.waitForRun(ingestWorkflowId(sha256));
    assert.equal(run.state, 'completed', run.failureReason ?? '');
    assert.equal(run.outcome, 'graded');
    assert.equal(run.score, 7);
    assert.equal(run.attempts, 1);
    const [row] = await stack.database.db.select().from(gradingRuns).where(eq(gradingRuns.id, run.id));
    assert.match(row?.output ?? '', /before\uFFFDafter/);
    assert.deepEqual(row?.tests, [{ name: 't\uFFFD', score: 7, output: 'x\uFFFDy' }]);
  });

  it("records results.json nested 100,000 deep (the zip's and the grader's) as refused, never failing the run", async () => {
    const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    const body = `printf '{"score": 1, "tests": [{"score": 1, "extra_data": ${nested(100_000)}}]}' > /autograder/results/results.json`;
    const sha256 = await publish(
      await buildGradescopeZip({
        sourceFiles: { run_autograder: `#!/bin/bash\n${body}\n` },
        results: `{"score": 1, "tests": [{"score": 1, "extra_data": ${nested(100_000)}}]}`,
        hostname: 'deep-results\n',
      }),
    );
    const run = await stack.waitForRun(ingestWorkflowId(sha256));
    assert.equal(run.state, 'completed', run.failureReason ?? '');
    assert.equal(run.outcome, 'invalid-results');
    assert.match(run.failureReason ?? '', /nests deeper than 64 levels/);
    assert.equal(run.attempts, 1);
    const [stored] = await stack.database.db.select().from(submissions).where(eq(submissions.payloadSha256, sha256));
    assert.equal(stored?.gradescopeResults, null, "Gradescope's own results are left out, with a warning");
    assert.ok((stored?.warnings as string[]).some((warning) => /nests deeper/.test(warning)));
  });

  it('quarantines metadata a column cannot hold, naming why', async () => {
    const metadata = defaultMetadata();
    metadata.assignment.group_size = 2 ** 40;
    const sha256 = await expectQuarantined(
      await buildGradescopeZip({ metadata, hostname: 'huge-group\n' }),
      'unstorable-data',
    );
    const [raw] = await stack.database.db.select().from(rawPayloads).where(eq(rawPayloads.sha256, sha256));
    assert.match(raw?.rejectionReason ?? '', /PostgreSQL refused a value of the submission: .*22003/);
    assert.doesNotMatch(raw?.rejectionReason ?? '', /1099511627776/, 'the reason names no value');
  });

  it('quarantines metadata whose JSON error quotes a NUL, the reason stored with U+FFFD', async () => {
    const sha256 = await expectQuarantined(
      await buildGradescopeZip({ metadata: '{"id": \u0000}', hostname: 'nul-json\n' }),
      'invalid-metadata',
    );
    const [raw] = await stack.database.db.select().from(rawPayloads).where(eq(rawPayloads.sha256, sha256));
    assert.ok(!(raw?.rejectionReason ?? '').includes('\u0000'), 'no NUL in the stored reason');
    assert.match(raw?.rejectionReason ?? '', /not valid JSON.*\uFFFD/);
  });

  it('refuses anonymous and wrong-password publishers', async () => {
    const file = await writeZipFile(await buildGradescopeZip({ hostname: 'intruder\n' }));
    const broker = brokerOf(stack.config);
    await assert.rejects(mosquittoPub(broker, file.path, { credentials: null }), /not authori[sz]ed|refused/i);
    await assert.rejects(
      mosquittoPub(broker, file.path, { credentials: [broker.username, 'wrong-password'] }),
      /not authori[sz]ed|refused/i,
    );
    const runs = await stack.database.db
      .select()
      .from(gradingRuns)
      .where(eq(gradingRuns.workflowId, ingestWorkflowId(file.sha256)));
    assert.equal(runs.length, 0);
  });
});
