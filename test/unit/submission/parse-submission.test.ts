import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NOTHING_ANONYMISED } from '../../../src/submission/anonymise.js';
import { InvalidSubmissionError, type InvalidSubmissionReason } from '../../../src/submission/errors.js';
import {
  parseSubmission,
  unpackStoredSubmission,
  type ParseSubmissionOptions,
} from '../../../src/submission/parse-submission.js';
import { readZipSafely } from '../../../src/submission/read-zip-safely.js';
import { writeZip } from '../../../src/submission/write-zip.js';
import {
  buildGradescopeZip,
  DEFAULT_SENDER_IPS,
  DEFAULT_STUDENTS,
  defaultMetadata,
  readGradescopeExample,
  type GradescopeExample,
} from '../../support/gradescope-zip.js';

const options: ParseSubmissionOptions = {
  limits: { maxEntries: 1000, maxUncompressedBytes: 10 * 1024 * 1024 },
  anonymise: { pseudonymKey: new TextEncoder().encode('a test key of enough length') },
};
const decode = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

async function rejectsWith(promise: Promise<unknown>, reason: InvalidSubmissionReason, message?: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InvalidSubmissionError, `expected InvalidSubmissionError, got ${String(error)}`);
    assert.equal(error.reason, reason, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

/** Every piece of personal data in the default zip, as it must not survive ingestion. */
const personalData = new RegExp(
  DEFAULT_STUDENTS.flatMap((s) => [s.name, s.email, s.sid])
    .map((value) => value.replace(/[.+]/g, '\\$&'))
    .join('|'),
  'i',
);

void describe('parseSubmission', () => {
  void it('reads the default group submission and anonymises it', async () => {
    const parsed = await parseSubmission(await buildGradescopeZip(), options);
    assert.equal(parsed.metadata.id, 209522918);
    assert.deepEqual(
      parsed.metadata.users.map(({ name, email, sid }) => ({ name, email, sid })),
      [
        { name: 'student-1', email: 'student-1@example.invalid', sid: 'SID-1' },
        { name: 'student-2', email: 'student-2@example.invalid', sid: 'SID-2' },
      ],
    );
    assert.deepEqual(parsed.senderIps, DEFAULT_SENDER_IPS);
    assert.equal(parsed.gradescopeResults?.tests.length, 2);
    assert.deepEqual([...parsed.sourceFiles.keys()], ['run_autograder', 'setup.sh', 'tests/cases.json']);
    assert.deepEqual([...parsed.submissionFiles.keys()], ['calculator.py']);
    const calculator = decode(parsed.submissionFiles.get('calculator.py'));
    assert.doesNotMatch(calculator, personalData);
    assert.match(calculator, /student-1 <student-1@example\.invalid> \(SID-1\), student-2 </);
    assert.match(parsed.sourceHash, /^[0-9a-f]{64}$/);
    assert.deepEqual(parsed.anonymisation, { ...NOTHING_ANONYMISED, usersAnonymised: 2, filesChanged: 1 });
    assert.deepEqual(parsed.warnings, []);
  });

  void it('stores a zip with the same layout and modes and no personal data', async () => {
    const parsed = await parseSubmission(await buildGradescopeZip(), options);
    const stored = await readZipSafely(parsed.anonymisedZip, options.limits);
    assert.equal(stored.rootPrefix, 'gradescope_data/');
    assert.equal(stored.modes.get('autograder/source/run_autograder'), 0o755);
    for (const [path, content] of stored.files) assert.doesNotMatch(decode(content), personalData, path);
    assert.deepEqual(stored.files.get('autograder/source/setup.sh'), parsed.sourceFiles.get('setup.sh'));
  });

  for (const example of [
    'submission_metadata.real-capture-2023.json',
    'submission_metadata.go-autograder-example.json',
  ] satisfies GradescopeExample[]) {
    void it(`accepts ${example}`, async () => {
      const text = await readGradescopeExample(example);
      const original = JSON.parse(text) as { users: { name: string; email: string }[] };
      const parsed = await parseSubmission(await buildGradescopeZip({ metadata: text, rootPrefix: '' }), options);
      assert.equal(parsed.metadata.users.length, original.users.length);
      assert.equal(parsed.metadata.users[0]?.name, 'student-1');
      assert.equal(parsed.metadata.users[0]?.sid, '', 'an empty sid stays empty');
      const stored = decode(
        (await readZipSafely(parsed.anonymisedZip, options.limits)).files.get('autograder/submission_metadata.json'),
      );
      for (const user of original.users) assert.equal(stored.includes(user.email), false);
    });
  }

  void it('names files outside the tree in warnings by a hash, never by their path', async () => {
    const tree = await readZipSafely(await buildGradescopeZip(), options.limits);
    const files = new Map([...tree.files].map(([path, content]) => [`gradescope_data/${path}`, content]));
    files.set('__MACOSX/gradescope_data/._alice_student_hw1.py', new Uint8Array([0]));
    const parsed = await parseSubmission(await writeZip(files), options);
    assert.equal(parsed.warnings.length, 1);
    assert.match(
      parsed.warnings[0] ?? '',
      /^Ignored entry #[0-9a-f]{8} \(\.py\): it is outside the submission's root\.$/,
    );
    assert.doesNotMatch(parsed.warnings[0] ?? '', /alice/i);
  });

  void it('keeps personal data when anonymisation is off', async () => {
    const parsed = await parseSubmission(await buildGradescopeZip(), { ...options, anonymise: false });
    assert.equal(parsed.metadata.users[0]?.name, DEFAULT_STUDENTS[0].name);
    assert.match(decode(parsed.submissionFiles.get('calculator.py')), personalData);
    assert.deepEqual(parsed.anonymisation, NOTHING_ANONYMISED);
  });

  void it('replaces PDFs with a placeholder wherever they are', async () => {
    const zip = await buildGradescopeZip({ submissionFiles: { 'calculator.py': 'x = 1\n', 'writeup.pdf': '%PDF' } });
    const parsed = await parseSubmission(zip, options);
    assert.deepEqual([...parsed.submissionFiles.keys()], ['calculator.py', 'writeup.pdf']);
    assert.match(decode(parsed.submissionFiles.get('writeup.pdf')), /^Removed by GreenGrader's anonymisation: .*PDF/);
    assert.equal(parsed.anonymisation.documentsReplaced, 1);
  });

  void it('gives the same bytes and hashes for the same zip, and a hash that ignores the student files', async () => {
    const first = await parseSubmission(await buildGradescopeZip(), options);
    const second = await parseSubmission(await buildGradescopeZip(), options);
    assert.deepEqual(second.anonymisedZip, first.anonymisedZip);
    assert.equal(second.sourceHash, first.sourceHash);
    const other = await parseSubmission(await buildGradescopeZip({ submissionFiles: { 'x.py': '' } }), options);
    assert.equal(other.sourceHash, first.sourceHash);
    const changed = await parseSubmission(
      await buildGradescopeZip({ sourceFiles: { run_autograder: '#!/bin/sh\n' } }),
      options,
    );
    assert.notEqual(changed.sourceHash, first.sourceHash);
  });

  void it('tolerates a missing hostname.txt and results.json', async () => {
    const parsed = await parseSubmission(await buildGradescopeZip({ hostname: null, results: null }), options);
    assert.deepEqual(parsed.senderIps, []);
    assert.equal(parsed.gradescopeResults, null);
    assert.equal(parsed.warnings.length, 1);
    assert.match(parsed.warnings[0] ?? '', /hostname\.txt/);
  });

  void it('keeps the submission when Gradescope results.json is broken, with a warning', async () => {
    const parsed = await parseSubmission(await buildGradescopeZip({ results: '{"tests": 3}' }), options);
    assert.equal(parsed.gradescopeResults, null);
    assert.match(parsed.warnings.join('\n'), /results\.json/);
  });

  void it('drops values in hostname.txt that are not addresses', async () => {
    const parsed = await parseSubmission(await buildGradescopeZip({ hostname: '10.1.2.3 fe80::1 oops\n' }), options);
    assert.deepEqual(parsed.senderIps, ['10.1.2.3', 'fe80::1']);
    assert.match(parsed.warnings.join('\n'), /Ignored 1 non-IP value\(s\) in hostname\.txt/);
    assert.doesNotMatch(parsed.warnings.join('\n'), /oops/, 'what the sender wrote is not repeated');
  });

  void it("tells a malformed metadata file's fault without quoting a student's text", async () => {
    const zip = await buildGradescopeZip({ metadata: '{"users": [{"email": jane.doe@example.edu}]}' });
    const error = await parseSubmission(zip, options).then(
      () => assert.fail('should be refused'),
      (refused: unknown) => refused,
    );
    assert.ok(error instanceof Error);
    assert.match(error.message, /is not valid JSON/);
    assert.doesNotMatch(error.message, /jane|doe|example/);
  });

  void it('refuses a zip without submission_metadata.json', async () => {
    await rejectsWith(parseSubmission(await buildGradescopeZip({ metadata: null }), options), 'missing-metadata');
  });

  void it('refuses metadata that is not JSON', async () => {
    const zip = await buildGradescopeZip({ metadata: '{"id": 1,' });
    await rejectsWith(parseSubmission(zip, options), 'invalid-metadata', /not valid JSON/);
  });

  void it('refuses metadata with wrong types, naming the fields', async () => {
    const metadata = {
      ...defaultMetadata(),
      id: 'abc',
      assignment: { ...defaultMetadata().assignment, course_id: 1.5 },
    };
    const zip = await buildGradescopeZip({ metadata });
    await rejectsWith(parseSubmission(zip, options), 'invalid-metadata', /\bid\b.*assignment\.course_id/);
  });

  void it('passes zip-level refusals through', async () => {
    await rejectsWith(parseSubmission(new Uint8Array([1, 2, 3]), options), 'not-a-zip');
  });
});

void describe('unpackStoredSubmission', () => {
  void it('gives a grading run the metadata, trees and source hash that ingestion parsed', async () => {
    const parsed = await parseSubmission(await buildGradescopeZip(), options);
    const unpacked = await unpackStoredSubmission(parsed.anonymisedZip, options.limits);
    assert.deepEqual(unpacked.metadata, parsed.metadata);
    assert.deepEqual([...unpacked.sourceFiles.keys()], [...parsed.sourceFiles.keys()]);
    assert.deepEqual(unpacked.sourceFiles, parsed.sourceFiles);
    assert.deepEqual(unpacked.submissionFiles, parsed.submissionFiles);
    assert.equal(unpacked.sourceHash, parsed.sourceHash);
    assert.doesNotMatch(JSON.stringify(unpacked.metadata), personalData);
  });

  void it('refuses stored bytes that are no longer a readable submission', async () => {
    await rejectsWith(unpackStoredSubmission(new Uint8Array([1, 2, 3]), options.limits), 'not-a-zip');
    const withoutMetadata = await writeZip(new Map([['gradescope_data/hostname.txt', new Uint8Array([49])]]));
    await rejectsWith(unpackStoredSubmission(withoutMetadata, options.limits), 'missing-metadata');
  });

  void it('refuses a tree tar could not unpack: a name part over 255 bytes, a file that is also a folder', async () => {
    const refused = async (submissionFiles: Record<string, string>, message: RegExp) => {
      const error = await parseSubmission(await buildGradescopeZip({ submissionFiles }), options).then(
        () => assert.fail(`accepted ${Object.keys(submissionFiles).join(', ')}`),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof InvalidSubmissionError);
      assert.equal(error.reason, 'unextractable-path');
      assert.match(error.message, message);
    };
    await refused({ [`${'é'.repeat(128)}.py`]: 'x = 1\n' }, /longer than 255 bytes/);
    await refused({ lib: 'a file', 'lib/util.py': 'x = 1\n' }, /is a file, and .* as a folder/);
    // 255 bytes fit.
    const fits = await buildGradescopeZip({ submissionFiles: { ['a'.repeat(255)]: 'x = 1\n' } });
    assert.ok((await parseSubmission(fits, options)).submissionFiles.has('a'.repeat(255)));
  });
});
