import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { createStorageActivities } from '../../src/activities/storage-activities.js';
import { loadConfig } from '../../src/config/config.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { gradingRuns, rawPayloads, submissions } from '../../src/db/schema.js';
import { readMetadata } from '../../src/submission/parse-submission.js';
import { readZipSafely } from '../../src/submission/read-zip-safely.js';
import { pseudonymOf } from '../../src/submission/pseudonym.js';
import { requireEnv } from '../support/env.js';
import { createFreshDatabase, type FreshDatabase } from '../support/fresh-database.js';
import { findNeedles, textsOfStoredZips, textsOfTables, textsOfZip } from '../support/pii-search.js';
import { buildPiiSubmissionZip, PII_NEEDLES, PII_STUDENTS } from '../support/pii-submission.js';
import { emptyKeyring } from '../../src/submission/sealed-bytes.js';

const KEY = 'pii-sweep test pseudonym key';

/** Every spelling the sweep looks for, and the transliteration of the accented name. */
const NEEDLES = [...PII_NEEDLES, 'angstroem'];

void describe('PII sweep: a stored submission holds no trace of its students', () => {
  let fresh: FreshDatabase;
  let database: DatabaseHandle;
  before(async () => {
    fresh = await createFreshDatabase(requireEnv('DATABASE_URL'));
    database = connectDatabase(fresh.url);
    await migrateDatabase(database.pool);
  });
  after(async () => {
    await database?.close();
    await fresh?.drop();
  });

  void it('finds no name, email, login, sid, user id or extension date in any table or in the zip, however spelt', async () => {
    const zip = await buildPiiSubmissionZip();
    const sha256 = createHash('sha256').update(zip).digest('hex');
    const runId = randomUUID();
    await database.db
      .insert(rawPayloads)
      .values({ sha256, bytes: Buffer.from(zip), sizeBytes: zip.length, topic: 'submissions' });
    await database.db.insert(gradingRuns).values({
      id: runId,
      workflowId: `ingest-${sha256}`,
      payloadSha256: sha256,
      trigger: 'ingest',
      receivedAt: new Date(),
    });
    const config = loadConfig({ DATABASE_URL: fresh.url });
    const storage = createStorageActivities(database.db, config, {
      anonymiseKey: new TextEncoder().encode(KEY),
      keyring: emptyKeyring,
    });

    const ref = await storage.storeSubmission({ payloadSha256: sha256, runId });

    const texts = [...(await textsOfTables(database)), ...(await textsOfStoredZips(database))];
    assert.ok(texts.length > 40, `the sweep read ${texts.length} texts`);
    assert.deepEqual(findNeedles(texts, NEEDLES), []);
    // The sweep itself must see the data in the original, or it proves nothing.
    assert.ok(findNeedles(await textsOfZip(zip, 'original'), NEEDLES).length > 30);

    const [stored] = await database.db.select().from(submissions).where(eq(submissions.id, ref.submissionId));
    assert.ok(stored);
    assert.equal(
      stored.assignmentDueDate?.toISOString(),
      '2023-11-15T18:42:00.000Z',
      'the assignment due date stays for scheduling',
    );
    assert.deepEqual(
      stored.studentUserIds,
      PII_STUDENTS.map((student) => pseudonymOf(student.id, new TextEncoder().encode(KEY))),
    );
    assert.equal(stored.anonymised, true);
  });

  void it('keeps the tree re-runnable: the same layout, consistent tokens, and the grader untouched', async () => {
    const [stored] = await database.db.select().from(submissions);
    assert.ok(stored);
    const tree = await readZipSafely(stored.zip, { maxEntries: 1000, maxUncompressedBytes: 64 * 1024 * 1024 });
    assert.equal(tree.rootPrefix, 'gradescope_data/');
    const text = (path: string) => new TextDecoder().decode(tree.files.get(path));
    assert.match(
      text('autograder/submission/calculator.py'),
      /^from student_1_hw1 import add, multiply {2}# student-2\n/,
    );
    assert.ok(tree.files.has('autograder/submission/student_1_hw1.py'));
    assert.ok(tree.files.has('autograder/source/student_1_hw1.py'));
    assert.equal(text('autograder/source/run_autograder'), text('autograder/run_autograder'));
    assert.equal(tree.modes.get('autograder/source/run_autograder'), 0o755);
    assert.match(text('autograder/submission/report.txt'), /^Removed by GreenGrader's anonymisation: .*PDF/);
    assert.match(text('autograder/submission/essay.docx'), /office document/);
    const metadata = readMetadata(tree.files);
    assert.deepEqual(
      metadata.users.map(({ name, email, sid, assignment }) => ({ name, email, sid, assignment })),
      [
        { name: 'student-1', email: 'student-1@example.invalid', sid: 'SID-1', assignment: undefined },
        { name: 'student-2', email: 'student-2@example.invalid', sid: 'SID-2', assignment: undefined },
      ],
    );
  });
});
