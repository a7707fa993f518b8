import { z } from 'zod';

// Field meanings follow /work/shared/fixtures/gradescope/SPEC.md §2. Known keys are checked;
// unknown keys are accepted and dropped, since Gradescope adds fields without notice.

/** ISO-8601 time with an offset, e.g. `2023-11-04T13:57:24.522843-07:00`; kept as text to keep microseconds. */
const gradescopeTimestamp = z.iso.datetime({ offset: true });

/** Points as a decimal string, e.g. `"20.0"`; a bare number is tolerated and turned into its string. */
const decimalPoints = z.union([
  z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a decimal number as a string, e.g. "20.0"'),
  z
    .number()
    .refine(Number.isFinite)
    .transform((value) => String(value)),
]);

const gradescopeId = z.number().int();

/** Dates that apply to one student, which differ from the assignment's when they have an extension. */
const userAssignmentDatesSchema = z.object({
  /** When this student could first submit. */
  release_date: gradescopeTimestamp.nullish().transform((value) => value ?? null),
  /** This student's deadline. */
  due_date: gradescopeTimestamp.nullish().transform((value) => value ?? null),
  /** This student's late deadline, null when late submission is off. */
  late_due_date: gradescopeTimestamp.nullish().transform((value) => value ?? null),
});

/** One submitter; a group submission lists every member. Name, email and sid are personal data. */
const submissionUserSchema = z.object({
  /** Gradescope user id. */
  id: gradescopeId,
  /** Full name. */
  name: z.string(),
  /** Email address. */
  email: z.string(),
  /** Student id from the course roster; '' when unset, and missing in some old captures. */
  sid: z.string().default(''),
  /** Dates effective for this student; absent in some old captures. */
  assignment: userAssignmentDatesSchema.optional(),
});

/** One question or part of the assignment outline (undocumented, present in every real capture). */
const outlineItemSchema = z.object({
  /** Question id. */
  id: gradescopeId,
  /** Question kind, e.g. "ProgrammingQuestion". */
  type: z.string(),
  /** Question title, e.g. "Autograder". */
  title: z.string(),
  /** Parent question id for sub-questions, else null. */
  parent_id: gradescopeId.nullish().transform((value) => value ?? null),
  /** Points for the question. */
  weight: decimalPoints,
  /** Question content; empty for programming questions. */
  content: z.array(z.unknown()).default([]),
  /** 1-based position in the outline. */
  index: z.number().int().optional(),
});

/** The assignment as configured by the instructor. */
const submissionAssignmentSchema = z.object({
  /** Gradescope assignment id. */
  id: gradescopeId,
  /** Gradescope course id. */
  course_id: gradescopeId,
  /** Assignment title. */
  title: z.string(),
  /** When students could first submit. */
  release_date: gradescopeTimestamp,
  /** Deadline. */
  due_date: gradescopeTimestamp,
  /** Late deadline, null when late submission is off. */
  late_due_date: gradescopeTimestamp.nullish().transform((value) => value ?? null),
  /** Whether group submission is allowed. */
  group_submission: z.boolean(),
  /** Largest allowed group, null when unset. */
  group_size: z
    .number()
    .int()
    .nullish()
    .transform((value) => value ?? null),
  /** Total points, manual parts included. */
  total_points: decimalPoints,
  /** Question outline. */
  outline: z.array(outlineItemSchema).default([]),
});

/** An earlier attempt by the same submitter(s) at this assignment. */
const previousSubmissionSchema = z.object({
  /** Submission id; missing in older captures. */
  id: gradescopeId.optional(),
  /** When that attempt was made. */
  submission_time: gradescopeTimestamp,
  /** Its score. */
  score: decimalPoints.nullish().transform((value) => value ?? null),
  /** True when that run failed through no fault of the student; missing in older captures. */
  autograder_error: z.boolean().optional(),
  /** That run's results object as Gradescope stored it; kept as-is, every key allowed. */
  results: z.looseObject({}).nullish(),
});

/** `/autograder/submission_metadata.json`, as Gradescope writes it for every run. */
export const submissionMetadataSchema = z.object({
  /** Gradescope submission id. */
  id: gradescopeId,
  /** Time of the submission; use it instead of the wall clock so re-runs behave like the original. */
  created_at: gradescopeTimestamp,
  /** The assignment. */
  assignment: submissionAssignmentSchema,
  /** One entry per submitter. */
  users: z.array(submissionUserSchema).min(1),
  /** "upload", "GitHub" or "Bitbucket". */
  submission_method: z.string(),
  /** Earlier attempts; empty for a first attempt. */
  previous_submissions: z.array(previousSubmissionSchema).default([]),
  /** Undocumented and always null in real captures; use `assignment.id`. */
  assignment_id: z.number().int().nullish(),
});

/** Parsed and checked submission metadata. */
export type SubmissionMetadata = z.output<typeof submissionMetadataSchema>;
/** Submission metadata as found in the JSON file, before defaults are applied. */
export type SubmissionMetadataInput = z.input<typeof submissionMetadataSchema>;
