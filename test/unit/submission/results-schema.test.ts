import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidSubmissionError } from '../../../src/submission/errors.js';
import { parseResultsJson, scoreOf } from '../../../src/submission/results-schema.js';
import { readGradescopeExample } from '../../support/gradescope-zip.js';

void describe('parseResultsJson', () => {
  void it('reads the gradescope-utils example: string execution_time, leaderboard, top-level score', async () => {
    const results = parseResultsJson(await readGradescopeExample('results.gradescope-utils-calculator.json'));
    assert.equal(results.execution_time, 0.05);
    assert.equal(results.tests.length, 13);
    assert.equal(results.tests[4]?.status, 'failed');
    assert.deepEqual(results.tests[5]?.tags, ['integration']);
    assert.deepEqual(
      results.leaderboard.map((entry) => [entry.name, entry.order]),
      [
        ['time', 'asc'],
        ['high score', 'desc'],
        ['accuracy', 'desc'],
        ['stars', 'desc'],
      ],
    );
    assert.equal(typeof results.leaderboard[3]?.value, 'string');
    assert.equal(scoreOf(results), 20);
  });

  void it('reads the Go example, which has no top-level score', async () => {
    const results = parseResultsJson(await readGradescopeExample('results.go-autograder-example.json'));
    assert.equal(results.score, undefined);
    assert.equal(results.tests[2]?.number, 'f1.2');
    assert.match(results.output ?? '', /Rate limit exceeded/);
    assert.deepEqual(results.leaderboard, []);
    assert.equal(scoreOf(results), 20);
  });

  void it('accepts the normalised form, with null for every unset key', () => {
    const results = parseResultsJson(
      JSON.stringify({
        score: null,
        tests: [{ name: 't', tags: null, score: 3, number: null, output: null, status: null, max_score: 5 }],
        output: null,
        extra_data: null,
        visibility: 'visible',
        leaderboard: null,
        execution_time: null,
      }),
    );
    assert.deepEqual(results.leaderboard, []);
    assert.equal(scoreOf(results), 3);
  });

  void it('keeps keys it does not know', () => {
    const results = parseResultsJson('{"score": 1, "greengrader": {"node": "n1"}}');
    assert.deepEqual(results['greengrader'], { node: 'n1' });
  });

  for (const [title, text] of [
    ['text that is not JSON', '{"score": '],
    ['a JSON array', '[]'],
    ['tests that are not a list', '{"tests": {"name": "t"}}'],
    ['a non-numeric score', '{"score": "lots"}'],
  ] as const) {
    void it(`refuses ${title} as invalid-results`, () => {
      assert.throws(
        () => parseResultsJson(text),
        (error: unknown) => error instanceof InvalidSubmissionError && error.reason === 'invalid-results',
      );
    });
  }
});

void describe('scoreOf', () => {
  const parse = (json: unknown) => parseResultsJson(JSON.stringify(json));

  void it('a top-level score overrides the sum of the tests', () => {
    assert.equal(scoreOf(parse({ score: 7.5, tests: [{ score: 1 }, { score: 2 }] })), 7.5);
  });

  void it('a top-level score of 0 still counts', () => {
    assert.equal(scoreOf(parse({ score: 0, tests: [{ score: 2 }] })), 0);
  });

  void it('without one, sums the tests that have a score and skips informational ones', () => {
    assert.equal(scoreOf(parse({ tests: [{ score: 1.5 }, { score: '2' }, { status: 'passed' }] })), 3.5);
  });

  void it('is null when nothing carries a score', () => {
    assert.equal(scoreOf(parse({})), null);
    assert.equal(scoreOf(parse({ score: null, tests: [{ name: 'compiles', status: 'passed' }] })), null);
  });
});
