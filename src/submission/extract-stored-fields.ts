import type { SubmissionMetadata } from './metadata-schema.js';

/** The dates one student works to (they differ from the assignment's with an extension). */
interface StudentAssignmentDates {
  /** Gradescope user id of the student. */
  gradescopeUserId: number;
  releaseDate: Date | null;
  dueDate: Date | null;
  lateDueDate: Date | null;
}

/** One outline question, with the keys the original system stored. */
interface StoredOutlineItem {
  id: number;
  type: string;
  title: string;
  parent_id: number | null;
  /** Points, as a decimal string. */
  weight: string;
}

/** The per-submission fields the original ingestion stored, ready for a database row. */
export interface StoredSubmissionFields {
  gradescopeSubmissionId: number;
  /** Names, emails and sids in `users` order; anonymised when the metadata was. */
  studentNames: string[];
  studentEmails: string[];
  studentSids: string[];
  /** Gradescope user ids in `users` order. */
  studentUserIds: number[];
  studentAssignmentDates: StudentAssignmentDates[];
  createdAt: Date;
  courseId: number;
  assignmentId: number;
  assignmentTitle: string;
  releaseDate: Date;
  dueDate: Date;
  lateDueDate: Date | null;
  groupSubmission: boolean;
  groupSize: number | null;
  /** Decimal string, e.g. "20.0", to store in a numeric column without float rounding. */
  totalPoints: string;
  outline: StoredOutlineItem[];
  /** "upload", "GitHub" or "Bitbucket". */
  submissionMethod: string;
}

/** Flattens checked metadata into the fields stored per submission. Dates lose their microseconds. */
export function extractStoredFields(metadata: SubmissionMetadata): StoredSubmissionFields {
  const { assignment, users } = metadata;
  return {
    gradescopeSubmissionId: metadata.id,
    studentNames: users.map((user) => user.name),
    studentEmails: users.map((user) => user.email),
    studentSids: users.map((user) => user.sid),
    studentUserIds: users.map((user) => user.id),
    studentAssignmentDates: users.map((user) => ({
      gradescopeUserId: user.id,
      releaseDate: toDate(user.assignment?.release_date ?? null),
      dueDate: toDate(user.assignment?.due_date ?? null),
      lateDueDate: toDate(user.assignment?.late_due_date ?? null),
    })),
    createdAt: new Date(metadata.created_at),
    courseId: assignment.course_id,
    assignmentId: assignment.id,
    assignmentTitle: assignment.title,
    releaseDate: new Date(assignment.release_date),
    dueDate: new Date(assignment.due_date),
    lateDueDate: toDate(assignment.late_due_date),
    groupSubmission: assignment.group_submission,
    groupSize: assignment.group_size,
    totalPoints: assignment.total_points,
    outline: assignment.outline.map(({ id, type, title, parent_id, weight }) => ({
      id,
      type,
      title,
      parent_id,
      weight,
    })),
    submissionMethod: metadata.submission_method,
  };
}

function toDate(timestamp: string | null): Date | null {
  return timestamp === null ? null : new Date(timestamp);
}
