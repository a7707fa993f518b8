import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { access, constants, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import type { CarbonReport } from '../../src/cli/queries/carbon-report.js';
import type { NodeList } from '../../src/cli/queries/list-nodes.js';
import type { SubmissionList } from '../../src/cli/queries/list-submissions.js';
import type { SubmissionStatus } from '../../src/cli/queries/submission-status.js';
import type { RerunOutput } from '../../src/cli/commands/rerun.js';
import type { ExportOutput } from '../../src/cli/commands/export.js';
import type { SubmitOutput } from '../../src/cli/commands/submit.js';
import { gradingRuns, rawPayloads } from '../../src/db/schema.js';
import { freePort } from '../../src/services/free-port.js';
import { ingestWorkflowId } from '../../src/shared/grading-types.js';
import { buildGradescopeZip, DEFAULT_STUDENTS } from '../support/gradescope-zip.js';
import { startGradingStack, type GradingStack } from '../support/grading-stack.js';
import { brokerOf, mosquittoPub, writeZipFile } from '../support/publish.js';
import { cliEnvOf, runCli, runCliJson } from './support/run-cli.js';
import { scratchDir } from '../support/scratch-dir.js';

const SUBMISSION_ID = 209522918;

describe('the greengrader CLI over a graded submission', () => {
  let stack: GradingStack;
  let env: Record<string, string>;
  let sha256: string;

  before(async () => {
    stack = await startGradingStack();
    env = cliEnvOf(stack.config);
    // Workflow ids are the payload's hash and Temporal is shared by all test files: make the bytes ours.
    const zip = await writeZipFile(await buildGradescopeZip({ extra: { 'gradescope/test-nonce': randomUUID() } }));
    sha256 = zip.sha256;
    await mosquittoPub(brokerOf(stack.config), zip.path);
    const run = await stack.waitForRun(ingestWorkflowId(sha256));
    assert.equal(run.state, 'completed', run.failureReason ?? '');
  });
  after(async () => {
    await stack?.stop();
  });

  it('status shows the submission and its run, for people and as JSON', async () => {
    const human = await runCli(['status', String(SUBMISSION_ID)], env);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /Submission 209522918: Homework 1: Calculator/);
    // The fixture's dates are in 2023: ingested today, after its late due date, the run is in the regrade lane.
    assert.match(human.stdout, /^1\s+ingest\s+completed\s+regrade\s+graded\s+10\s+10\s/m);
    assert.ok(human.stdout.includes(ingestWorkflowId(sha256)));

    const status = await runCliJson<SubmissionStatus>(['status', String(SUBMISSION_ID)], env);
    assert.equal(status.gradescopeSubmissionId, SUBMISSION_ID);
    assert.equal(status.payloads.length, 1);
    assert.deepEqual(Object.keys(status.payloads[0] ?? {}).sort(), [
      'anonymised',
      'assignmentId',
      'assignmentTitle',
      'courseId',
      'gradescopeCreatedAt',
      'gradescopeScore',
      'payloadSha256',
      'storedAt',
      'warnings',
    ]);
    const [run] = status.runs;
    assert.ok(run);
    assert.equal(run.workflowId, ingestWorkflowId(sha256));
    assert.equal(run.state, 'completed');
    assert.equal(run.outcome, 'graded');
    assert.equal(run.score, 10);
    assert.equal(run.lane, 'regrade');
    assert.equal(run.waitingForSlot, false);
    assert.equal(run.nodeName, stack.nodes[0]?.nodeName);
    assert.match(run.receivedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.ok(run.turnaroundTimeMs !== null && run.turnaroundTimeMs > 0);
  });

  it('list shows each stored submission with its latest run', async () => {
    const human = await runCli(['list'], env);
    assert.equal(human.code, 0, human.stderr);
    const [header, row] = human.stdout.trimEnd().split('\n');
    assert.match(
      header ?? '',
      /^SUBMISSION\s+ASSIGNMENT\s+STORED\s+RUNS\s+LATEST\s+LANE\s+OUTCOME\s+SCORE\s+GRADESCOPE\s+NODE$/,
    );
    assert.match(
      row ?? '',
      /^\s*209522918\s+3634596 Homework 1: Calculator\s+.*\s+1\s+ingest completed\s+regrade\s+graded\s+10\s+10\s/,
    );

    const list = await runCliJson<SubmissionList>(['list'], env);
    assert.equal(list.submissions.length, 1);
    assert.equal(list.submissions[0]?.payloadSha256, sha256);
    assert.equal(list.submissions[0]?.latestRun?.state, 'completed');
    const filtered = await runCliJson<SubmissionList>(['list', '--assignment', '1'], env);
    assert.deepEqual(filtered.submissions, []);
  });

  it('nodes shows the live node and its capacity (slots + prefetch)', async () => {
    const human = await runCli(['nodes'], env);
    assert.equal(human.code, 0, human.stderr);
    const nodeName = stack.nodes[0]?.nodeName ?? '';
    assert.match(human.stdout, new RegExp(`^${nodeName}\\s+yes\\s+local/local\\s+0/2\\+2\\s`, 'm'));

    const list = await runCliJson<NodeList>(['nodes'], env);
    assert.equal(list.livenessSec, stack.config.NODE_LIVENESS_SEC);
    assert.deepEqual(
      list.nodes.map((n) => [n.name, n.live, n.maxConcurrentRuns, n.prefetchRuns, n.activeRuns]),
      [[nodeName, true, 2, 2, 0]],
    );
  });

  it('report sums carbon per intensity basis, policy and region without mixing bases', async () => {
    // Two average-basis runs and one marginal run with known figures, beside the graded run (no intensity).
    const payload = 'f'.repeat(64);
    await stack.database.db
      .insert(rawPayloads)
      .values({ sha256: payload, bytes: Buffer.from('PK'), sizeBytes: 2, topic: 't' });
    const receipt = (n: number, basis: string, policy: string, region: string, saving: number | null) => ({
      workflowId: `synthetic-${n}`,
      payloadSha256: payload,
      trigger: 'rerun' as const,
      state: 'completed' as const,
      receivedAt: new Date(),
      recordedAt: new Date(),
      policy,
      region,
      energyKwh: 0.001 * n,
      emissionsGCo2: 0.1 * n,
      intensityBasis: basis,
      counterfactualEmissionsGCo2: saving === null ? null : 0.1 * n + saving,
      savingGCo2: saving,
    });
    await stack.database.db
      .insert(gradingRuns)
      .values([
        receipt(1, 'average', 'spatiotemporal', 'us-west', 0.05),
        receipt(2, 'average', 'immediate-home', 'us-east', 0),
        receipt(3, 'marginal', 'spatiotemporal', 'us-west', null),
      ]);

    const report = await runCliJson<CarbonReport>(['report'], env);
    assert.equal(report.completedRuns, 4);
    assert.equal(report.unaccountedRuns, 0);
    const overall = Object.fromEntries(report.overall.map((t) => [String(t.intensityBasis), t]));
    assert.deepEqual(Object.keys(overall), ['average', 'marginal', 'null']);
    assert.equal(overall.average?.runs, 2);
    assert.ok(Math.abs((overall.average?.emissionsGCo2 ?? 0) - 0.3) < 1e-9);
    assert.ok(Math.abs((overall.average?.savingGCo2 ?? 0) - 0.05) < 1e-9);
    assert.ok(Math.abs((overall.average?.counterfactualEmissionsGCo2 ?? 0) - 0.35) < 1e-9);
    assert.ok(Math.abs((overall.average?.savingFraction ?? 0) - 0.05 / 0.35) < 1e-9);
    assert.equal(overall.marginal?.comparedRuns, 0);
    assert.equal(overall.marginal?.savingGCo2, null);
    assert.equal(overall.null?.emissionsGCo2, null);
    assert.ok((overall.null?.energyKwh ?? 0) > 0, 'the graded run counts its energy');
    assert.deepEqual(
      report.byRegion.map((t) => [t.region, t.intensityBasis, t.runs]),
      [
        ['local', null, 1],
        ['us-east', 'average', 1],
        ['us-west', 'average', 1],
        ['us-west', 'marginal', 1],
      ],
    );
    assert.deepEqual(
      report.byPolicy.map((t) => [t.policy, t.intensityBasis]),
      [
        ['immediate-home', 'average'],
        ['spatiotemporal', 'average'],
        ['spatiotemporal', 'marginal'],
        ['spatiotemporal', null],
      ],
    );

    assert.deepEqual(
      report.byRegionAndPolicy.map((t) => [t.region, t.policy, t.intensityBasis, t.runs, t.savingGCo2]),
      [
        ['local', 'spatiotemporal', null, 1, null],
        ['us-east', 'immediate-home', 'average', 1, 0],
        ['us-west', 'spatiotemporal', 'average', 1, 0.05],
        ['us-west', 'spatiotemporal', 'marginal', 1, null],
      ],
    );

    const human = await runCli(['report'], env);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^Carbon report over 4 completed run\(s\)\./);
    assert.match(human.stdout, /^average\s+2\s+0\.003 kWh\s+300 mg\s+2\s+350 mg\s+50 mg\s+14\.3 %$/m);
    assert.match(human.stdout, /^us-west\s+marginal\s+1\s/m);
    assert.match(
      human.stdout,
      /By region and policy\n.*\n(.*\n){2}us-west\s+spatiotemporal\s+average\s+1\s.*50 mg\s+33\.3 %\n/,
    );

    const later = await runCliJson<CarbonReport>(['report', '--since', '2999-01-01'], env);
    assert.equal(later.completedRuns, 0);
    assert.deepEqual(later.overall, []);
    await stack.database.db.delete(gradingRuns).where(eq(gradingRuns.payloadSha256, payload));
  });

  it('rerun starts a second run of the stored submission and waits for its result', async () => {
    const output = await runCliJson<RerunOutput>(['rerun', String(SUBMISSION_ID), '--wait'], env);
    assert.equal(output.payloadSha256, sha256);
    assert.match(output.workflowId, new RegExp(`^grade-${sha256}-rerun-\\d+$`));
    assert.equal(output.result?.state, 'completed');
    assert.equal(output.result?.score, 10);

    const status = await runCliJson<SubmissionStatus>(['status', String(SUBMISSION_ID)], env);
    assert.deepEqual(
      status.runs.map((run) => [run.trigger, run.state, run.score]),
      [
        ['ingest', 'completed', 10],
        ['rerun', 'completed', 10],
      ],
    );
    assert.equal(status.runs[1]?.workflowId, output.workflowId);

    const human = await runCli(['rerun', String(SUBMISSION_ID)], env);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`^workflow grade-${sha256}-rerun-\\d+$`, 'm'));
    const workflowId = /^workflow (\S+)$/m.exec(human.stdout)?.[1] ?? '';
    const run = await stack.waitForRun(workflowId);
    assert.equal(run.state, 'completed');
    assert.equal(run.trigger, 'rerun');
  });

  it('export unpacks the stored, anonymised tree and refuses a non-empty directory', async () => {
    const dir = path.join(await scratchDir('gg-export-'), 'tree');
    const output = await runCliJson<ExportOutput>(['export', String(SUBMISSION_ID), dir], env);
    assert.equal(output.payloadSha256, sha256);
    assert.equal(output.anonymised, true);
    assert.ok(output.files.includes('autograder/submission/calculator.py'));
    assert.ok(output.files.includes('autograder/submission_metadata.json'));
    await access(path.join(dir, 'autograder/source/run_autograder'), constants.X_OK);
    const written = await readdir(dir, { recursive: true });
    assert.equal(written.filter((entry) => output.files.includes(entry)).length, output.files.length);
    for (const file of output.files) {
      const text = await readFile(path.join(dir, file), 'utf8');
      for (const student of DEFAULT_STUDENTS) {
        for (const pii of [student.name, student.email, student.sid])
          assert.ok(!text.includes(pii), `${pii} in ${file}`);
      }
    }

    const again = await runCli(['export', String(SUBMISSION_ID), dir], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is not empty .* --force/);
    const forced = await runCli(['export', String(SUBMISSION_ID), dir, '--force'], env);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /^wrote \d+ files \(\d+ bytes\) of submission 209522918 to .* \(anonymised\)$/m);
    assert.ok((await stat(path.join(dir, 'autograder/submission/calculator.py'))).size > 0);
  });

  it('submit publishes a zip like mosquitto_pub and the bridge grades it', async () => {
    const zip = await writeZipFile(await buildGradescopeZip({ hostname: '10.7.7.7\n' }));
    const output = await runCliJson<SubmitOutput>(['submit', zip.path], env);
    assert.equal(output.payloadSha256, zip.sha256);
    assert.equal(output.workflowId, ingestWorkflowId(zip.sha256));
    assert.equal(output.gradescopeSubmissionId, SUBMISSION_ID);
    const run = await stack.waitForRun(output.workflowId);
    assert.equal(run.state, 'completed', run.failureReason ?? '');

    const zip2 = await writeZipFile(await buildGradescopeZip({ hostname: '10.7.7.8\n' }));
    const human = await runCli(['submit', zip2.path], env);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`^sha256   ${zip2.sha256}$`, 'm'));
    assert.match(human.stdout, new RegExp(`^workflow grade-${zip2.sha256}$`, 'm'));
    await stack.waitForRun(ingestWorkflowId(zip2.sha256));

    // Three stored copies of one Gradescope submission now: status lists them all, with each run.
    const status = await runCliJson<SubmissionStatus>(['status', String(SUBMISSION_ID)], env);
    assert.equal(status.payloads.length, 3);
    assert.ok(status.runs.length >= 5);
  });

  it('refuses what is not a submission zip before publishing anything', async () => {
    const dir = await scratchDir('gg-bad-');
    const text = path.join(dir, 'notes.txt');
    await writeFile(text, 'not a zip\n');
    const notZip = await runCli(['submit', text], env);
    assert.equal(notZip.code, 1);
    assert.equal(
      notZip.stderr,
      `greengrader: ${text} is not a submission zip: payload starts with 0x6e6f7420, not a zip signature\n`,
    );

    const noMetadata = await writeZipFile(await buildGradescopeZip({ metadata: null }));
    const missing = await runCli(['submit', noMetadata.path], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^greengrader: .* is not a submission zip \(missing-metadata\): /);

    const absent = await runCli(['submit', path.join(dir, 'absent.zip')], env);
    assert.equal(absent.code, 1);
    assert.match(absent.stderr, /absent\.zip: no such file\n$/);
  });

  it('names an unknown submission id, and says what is wrong with a bad one', async () => {
    for (const command of [['status'], ['rerun'], ['export']]) {
      const args =
        command[0] === 'export' ? [...command, '4242', path.join(tmpdir(), 'gg-never')] : [...command, '4242'];
      const result = await runCli(args, env);
      assert.equal(result.code, 1, `${command[0]}: ${result.stderr}`);
      assert.equal(
        result.stderr,
        'greengrader: no stored submission with Gradescope id 4242 (see `greengrader list`)\n',
      );
    }
    const bad = await runCli(['status', 'abc'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /argument 'submission-id'.*numeric submission id/);
    const unknownCommand = await runCli(['frobnicate'], env);
    assert.equal(unknownCommand.code, 2);
  });

  it('reports an unreachable database or Temporal server in one line', async () => {
    const closed = await freePort();
    const noDatabase = await runCli(['list'], { ...env, DATABASE_URL: `postgres://postgres@127.0.0.1:${closed}/gg` });
    assert.equal(noDatabase.code, 1);
    assert.equal(
      noDatabase.stderr,
      `greengrader: cannot reach PostgreSQL at postgres://postgres@127.0.0.1:${closed}/gg: connection refused\n`,
    );
    const noTemporal = await runCli(['rerun', String(SUBMISSION_ID)], {
      ...env,
      TEMPORAL_ADDRESS: `127.0.0.1:${closed}`,
    });
    assert.equal(noTemporal.code, 1);
    assert.match(
      noTemporal.stderr,
      new RegExp(`\\ngreengrader: cannot reach Temporal at 127\\.0\\.0\\.1:${closed} .*\\n$`),
    );
  });
});
