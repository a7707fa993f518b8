import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { submissionMetadataSchema } from '../../../src/submission/metadata-schema.js';
import { defaultMetadata, readGradescopeExample } from '../../support/gradescope-zip.js';

void describe('submissionMetadataSchema', () => {
  void it('accepts the real 2023 capture', async () => {
    const json: unknown = JSON.parse(await readGradescopeExample('submission_metadata.real-capture-2023.json'));
    const metadata = submissionMetadataSchema.parse(json);
    assert.equal(metadata.id, 209522918);
    assert.equal(metadata.assignment.total_points, '20.0');
    assert.equal(metadata.assignment.late_due_date, null);
    assert.equal(metadata.assignment.group_size, null);
    assert.equal(metadata.users[0]?.sid, '');
    assert.equal(metadata.users[0]?.assignment?.due_date, '2023-11-15T10:42:00.000000-08:00');
    assert.deepEqual(metadata.assignment.outline[0]?.parent_id, null);
  });

  void it('accepts the 2025 shape with fully normalised previous results', async () => {
    const json: unknown = JSON.parse(await readGradescopeExample('submission_metadata.go-autograder-example.json'));
    const metadata = submissionMetadataSchema.parse(json);
    assert.equal(metadata.previous_submissions.length, 4);
    assert.equal(metadata.previous_submissions[0]?.score, '20.0');
    assert.ok(Array.isArray(metadata.previous_submissions[0]?.results?.tests), 'previous results are kept as-is');
  });

  void it('tolerates old captures without sid, outline or previous submissions, and unknown keys', () => {
    const input = defaultMetadata();
    const json = {
      ...input,
      new_gradescope_field: { anything: true },
      users: input.users.map(({ sid: _sid, ...user }) => user),
      assignment: { ...input.assignment, outline: undefined },
      previous_submissions: undefined,
    };
    const metadata = submissionMetadataSchema.parse(json);
    assert.deepEqual(
      metadata.users.map((user) => user.sid),
      ['', ''],
    );
    assert.deepEqual(metadata.assignment.outline, []);
    assert.deepEqual(metadata.previous_submissions, []);
  });

  void it('reports the path of every field with the wrong type', () => {
    const input = defaultMetadata();
    const json = {
      ...input,
      id: '209522918',
      created_at: 'yesterday',
      assignment: { ...input.assignment, total_points: 'ten' },
      users: [{ ...input.users[0], email: 42 }],
    };
    const result = submissionMetadataSchema.safeParse(json);
    assert.equal(result.success, false);
    const paths = result.error?.issues.map((issue) => issue.path.join('.')).sort();
    assert.deepEqual(paths, ['assignment.total_points', 'created_at', 'id', 'users.0.email']);
  });

  void it('requires timestamps to carry an offset', () => {
    const json = { ...defaultMetadata(), created_at: '2023-11-04T13:57:24.522843' };
    assert.equal(submissionMetadataSchema.safeParse(json).success, false);
  });
});
