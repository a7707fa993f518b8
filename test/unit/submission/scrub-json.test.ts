import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scrubJsonText } from '../../../src/submission/scrub-json.js';
import { createScrubber } from '../../../src/submission/scrub-text.js';

const scrub = createScrubber([{ name: 'Zoë Doe', email: 'zoe.doe@uni.example.edu', sid: 'A12345678' }]);

void describe('scrubJsonText', () => {
  void it('scrubs values and keys after decoding their escapes, keeping the rest byte for byte', () => {
    const text =
      '{\n  "output": "Tests for\\nzoe doe:\\tZo\\u00eb Doe",\n  "A12345678": 1.0,\n  "big": 12345678901234567890\n}\n';
    assert.equal(
      scrubJsonText(text, scrub),
      '{\n  "output": "Tests for\\nstudent-1:\\tstudent-1",\n  "SID-1": 1.0,\n  "big": 12345678901234567890\n}\n',
    );
  });

  void it('keeps a changed literal ASCII-only when the original was, so a Latin-1 or ensure_ascii file stays so', () => {
    const text = '{"note": "Zo\\u00eb Doe \\u00e9t\\u00e9"}';
    assert.equal(scrubJsonText(text, scrub), '{"note": "student-1 \\u00e9t\\u00e9"}');
  });

  void it('scrubs notebook cells, whose source lines end in escaped newlines', () => {
    const notebook = JSON.stringify(
      { cells: [{ cell_type: 'code', source: ['# Zoë Doe\n', 'print("by zoe.doe@uni.example.edu")\n'] }] },
      null,
      1,
    );
    const scrubbed = scrubJsonText(notebook, scrub);
    assert.deepEqual(JSON.parse(scrubbed), {
      cells: [{ cell_type: 'code', source: ['# student-1\n', 'print("by student-1@example.invalid")\n'] }],
    });
  });

  void it('scrubs invalid JSON as escape-aware text', () => {
    const broken = '{"output": "Hello\\nZoe Doe\\u0021", "score": ';
    assert.equal(scrubJsonText(broken, scrub), '{"output": "Hello\\nstudent-1!", "score": ');
    assert.equal(scrubJsonText('{"a": "unterminated\\nZo\\u00EB Doe', scrub), '{"a": "unterminated\\nstudent-1');
  });
});
