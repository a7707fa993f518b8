import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryLabel, jsonErrorWithoutExcerpt } from '../../../src/submission/entry-label.js';

void describe('entryLabel', () => {
  void it("names an entry by a hash of its name and its extension, never by the name's words", () => {
    const label = entryLabel('autograder/submission/Jane_Doe_A12345678.py');
    assert.match(label, /^entry #[0-9a-f]{8} \(\.py\)$/);
    assert.doesNotMatch(label, /jane|doe|A12345678/i);
    assert.equal(label, entryLabel('autograder/submission/Jane_Doe_A12345678.py'), 'stable');
    assert.notEqual(label, entryLabel('autograder/submission/john_roe.py'));
  });

  void it('leaves out an extension that could itself carry words', () => {
    assert.match(entryLabel('notes.jane doe'), /^entry #[0-9a-f]{8}$/);
  });
});

void describe('jsonErrorWithoutExcerpt', () => {
  void it("drops the excerpt V8 quotes from the text and keeps the fault's kind", () => {
    let parseError: unknown;
    try {
      JSON.parse('{"email": jane.doe@example.edu, "name": "Jane Doe"}');
    } catch (error) {
      parseError = error;
    }
    const told = jsonErrorWithoutExcerpt(parseError);
    assert.match(told, /^Unexpected token/);
    assert.doesNotMatch(told, /jane|doe|example/i);
  });

  void it('keeps a message that quotes nothing as it is', () => {
    assert.equal(
      jsonErrorWithoutExcerpt(new SyntaxError('Unexpected end of JSON input')),
      'Unexpected end of JSON input',
    );
  });
});
