import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderFields, renderTable } from '../../../../src/cli/output/table.js';

describe('aligned tables', () => {
  it('pads every column to its widest cell, numbers to the right, without trailing blanks', () => {
    const rows = [
      { name: 'node-a', runs: 1, region: 'us-west' },
      { name: 'b', runs: 12, region: '' },
    ];
    const table = renderTable(rows, [
      { header: 'NAME', cell: (r) => r.name },
      { header: 'RUNS', cell: (r) => String(r.runs), align: 'right' },
      { header: 'REGION', cell: (r) => r.region },
    ]);
    assert.equal(table, ['NAME    RUNS  REGION', 'node-a     1  us-west', 'b         12'].join('\n'));
  });

  it('prints the header alone for no rows, and label/value blocks aligned on the label', () => {
    assert.equal(renderTable([], [{ header: 'NAME', cell: () => 'x' }]), 'NAME');
    assert.equal(
      renderFields(
        [
          ['payload', 'abc'],
          ['Gradescope score', '10'],
        ],
        '  ',
      ),
      '  payload           abc\n  Gradescope score  10',
    );
  });
});
