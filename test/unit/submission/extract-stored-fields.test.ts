import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractStoredFields } from '../../../src/submission/extract-stored-fields.js';
import { submissionMetadataSchema } from '../../../src/submission/metadata-schema.js';
import { DEFAULT_STUDENTS, defaultMetadata, readGradescopeExample } from '../../support/gradescope-zip.js';

void describe('extractStoredFields', () => {
  void it('flattens a group submission into the columns the original stored', () => {
    const fields = extractStoredFields(submissionMetadataSchema.parse(defaultMetadata()));
    assert.deepEqual(fields, {
      gradescopeSubmissionId: 209522918,
      studentNames: DEFAULT_STUDENTS.map((s) => s.name),
      studentEmails: DEFAULT_STUDENTS.map((s) => s.email),
      studentSids: DEFAULT_STUDENTS.map((s) => s.sid),
      studentUserIds: DEFAULT_STUDENTS.map((s) => s.id),
      studentAssignmentDates: [
        {
          gradescopeUserId: 2651667,
          releaseDate: new Date('2023-11-04T17:42:00Z'),
          dueDate: new Date('2023-11-15T18:42:00Z'),
          lateDueDate: new Date('2023-11-17T18:42:00Z'),
        },
        {
          gradescopeUserId: 2651668,
          releaseDate: new Date('2023-11-04T17:42:00Z'),
          dueDate: new Date('2023-11-16T18:42:00Z'),
          lateDueDate: new Date('2023-11-17T18:42:00Z'),
        },
      ],
      createdAt: new Date('2023-11-04T20:57:24.522Z'),
      courseId: 661371,
      assignmentId: 3634596,
      assignmentTitle: 'Homework 1: Calculator',
      releaseDate: new Date('2023-11-04T17:42:00Z'),
      dueDate: new Date('2023-11-15T18:42:00Z'),
      lateDueDate: new Date('2023-11-17T18:42:00Z'),
      groupSubmission: true,
      groupSize: 2,
      totalPoints: '10.0',
      outline: [{ id: 29397540, type: 'ProgrammingQuestion', title: 'Autograder', parent_id: null, weight: '10.0' }],
      submissionMethod: 'upload',
    });
  });

  void it('gives nulls for unset late dates and group size in the real capture', async () => {
    const json: unknown = JSON.parse(await readGradescopeExample('submission_metadata.real-capture-2023.json'));
    const fields = extractStoredFields(submissionMetadataSchema.parse(json));
    assert.equal(fields.lateDueDate, null);
    assert.equal(fields.groupSize, null);
    assert.equal(fields.studentAssignmentDates[0]?.lateDueDate, null);
    assert.deepEqual(fields.studentSids, ['']);
  });
});
