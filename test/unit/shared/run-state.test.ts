import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PgDialect, getTableConfig } from 'drizzle-orm/pg-core';
import { gradingRuns } from '../../../src/db/schema.js';
import { gradingStates, runOutcomes } from '../../../src/shared/grading-types.js';
import { runStateOf, runStates } from '../../../src/shared/run-state.js';

/** The values a CHECK constraint of the run table admits, read back from its SQL. */
function checkedValues(name: string): string[] {
  const constraint = getTableConfig(gradingRuns).checks.find((c) => c.name === name);
  assert.ok(constraint, `no check ${name}`);
  const { sql } = new PgDialect().sqlToQuery(constraint.value);
  return [...sql.matchAll(/'([^']*)'/g)].map(([, value]) => value ?? '');
}

describe('workflow state and run row state', () => {
  it('maps every workflow state to a row state, with a reason', () => {
    assert.deepEqual(Object.keys(runStateOf).sort(), [...gradingStates].sort());
    for (const [state, { row, reason }] of Object.entries(runStateOf)) {
      assert.ok(runStates.includes(row), `${state} maps to ${row}, which the row cannot hold`);
      assert.ok(reason.length > 0, `${state} has no reason`);
    }
  });

  it('reaches every row state from some workflow state', () => {
    const reached = new Set(Object.values(runStateOf).map(({ row }) => row));
    assert.deepEqual([...reached].sort(), [...runStates].sort());
  });

  it('stores exactly the row states and outcomes the schema allows', () => {
    assert.deepEqual(gradingRuns.state.enumValues, [...runStates]);
    assert.deepEqual(checkedValues('grading_runs_state_check'), [...runStates]);
    assert.deepEqual(checkedValues('grading_runs_outcome_check'), [...runOutcomes]);
  });
});
