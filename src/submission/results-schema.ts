import { z } from 'zod';
import { describeIssues } from './describe-issues.js';
import { InvalidSubmissionError } from './errors.js';
import { jsonErrorWithoutExcerpt } from './entry-label.js';
import { refuseDeepJson } from './json-depth.js';

// Field meanings follow SPEC.md §3. Everything is optional and may be null, as in Gradescope's
// stored form; unknown keys are kept, since autograders add their own.

/** A number, or a numeric string such as "0.05" that some tools write instead. */
const numberLike = z.union([
  z.number().refine(Number.isFinite),
  z
    .string()
    .trim()
    .regex(/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/, 'expected a number')
    .transform(Number),
]);

/** One test's result. */
const resultTestSchema = z.looseObject({
  /** Points earned; needed when there is no top-level score. */
  score: numberLike.nullish(),
  /** Points possible. */
  max_score: numberLike.nullish(),
  /** "passed" or "failed"; overrides the styling implied by score == max_score. */
  status: z.string().nullish(),
  /** Test name. */
  name: z.string().nullish(),
  /** Format of `name`: text, html, simple_format, md or ansi. */
  name_format: z.string().nullish(),
  /** Display number such as "1.1"; numbers are tolerated and turned into strings. */
  number: z.union([z.string(), z.number().transform((value) => String(value))]).nullish(),
  /** Detailed output. */
  output: z.string().nullish(),
  /** Format of `output`. */
  output_format: z.string().nullish(),
  /** Labels. */
  tags: z.array(z.string()).nullish(),
  /** Who may see this test: visible, hidden, after_due_date or after_published. */
  visibility: z.string().nullish(),
  /** Arbitrary stored data. */
  extra_data: z.unknown().optional(),
});

/** One leaderboard column. */
const leaderboardEntrySchema = z.looseObject({
  /** Column name, e.g. "Accuracy". */
  name: z.string(),
  /** The value; a string such as "*****" is allowed. */
  value: z.union([z.number(), z.string()]),
  /** Sort direction: "desc" (default) or "asc". */
  order: z.string().nullish(),
});

/** `/autograder/results/results.json`. */
const resultsSchema = z.looseObject({
  /** Total score; when present it overrides the sum of the tests' scores. */
  score: numberLike.nullish(),
  /** Run time in seconds as the autograder reported it. */
  execution_time: numberLike.nullish(),
  /** Text shown for the whole submission. */
  output: z.string().nullish(),
  /** Format of `output`. */
  output_format: z.string().nullish(),
  /** Default format of every test's output. */
  test_output_format: z.string().nullish(),
  /** Default format of every test's name. */
  test_name_format: z.string().nullish(),
  /** Default visibility of the tests. */
  visibility: z.string().nullish(),
  /** Who may see the captured stdout. */
  stdout_visibility: z.string().nullish(),
  /** Arbitrary stored data. */
  extra_data: z.unknown().optional(),
  /** Per-test results; [] when unset. */
  tests: z
    .array(resultTestSchema)
    .nullish()
    .transform((tests) => tests ?? []),
  /** Leaderboard entries; [] when unset. */
  leaderboard: z
    .array(leaderboardEntrySchema)
    .nullish()
    .transform((entries) => entries ?? []),
});

/** A checked results.json. */
export type ParsedResults = z.output<typeof resultsSchema>;

/** The score Gradescope would record: the top-level score, else the sum of test scores, else null. */
export function scoreOf(results: ParsedResults): number | null {
  if (typeof results.score === 'number') return results.score;
  const scores = results.tests.flatMap((test) => (typeof test.score === 'number' ? [test.score] : []));
  return scores.length === 0 ? null : scores.reduce((sum, score) => sum + score, 0);
}

/** Parses results.json text; throws InvalidSubmissionError('invalid-results') for bad JSON or shape. */
export function parseResultsJson(text: string): ParsedResults {
  refuseDeepJson(text, 'invalid-results', 'results.json');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const detail = jsonErrorWithoutExcerpt(error);
    throw new InvalidSubmissionError('invalid-results', `results.json is not valid JSON (${detail}).`, {
      cause: error,
    });
  }
  const parsed = resultsSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidSubmissionError('invalid-results', `results.json is malformed: ${describeIssues(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}
