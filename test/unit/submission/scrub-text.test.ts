import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createScrubber, type StudentIdentity } from '../../../src/submission/scrub-text.js';

const zoe: StudentIdentity = { name: 'Zoë Marie Doe-Smith', email: 'Zoe.Doe+cs101@Uni.Example.edu', sid: 'A12345678' };
const li: StudentIdentity = { name: 'Li Na', email: 'ln@uni.example.edu', sid: '77' };
const scrub = createScrubber([zoe, li]);

/** Asserts each input becomes the expected output. */
function expectScrubbed(cases: readonly (readonly [string, string])[]): void {
  for (const [input, expected] of cases) assert.equal(scrub(input), expected, JSON.stringify(input));
}

void describe('createScrubber', () => {
  void it('finds the full name in any case and with any separator or none between its parts', () => {
    expectScrubbed([
      ['by Zoë Doe-Smith.', 'by student-1.'],
      ['ZOË MARIE DOE-SMITH', 'student-1'],
      ['zoe_doe_smith_hw1.py', 'student_1_hw1.py'],
      ['zoe.marie.doe.smith', 'student-1'],
      ['ZoeDoeSmith()', 'student_1()'],
      ['class zoeSmith:', 'class student_1:'],
      ['printZoeSmith()', 'printstudent_1()'],
      ['Zoe   Smith', 'student-1'],
    ]);
  });

  void it('finds accented names typed with NFC, NFD, no accent or an escape', () => {
    expectScrubbed([
      ['Zo\u00eb Smith', 'student-1'],
      ['Zoe\u0308 Smith', 'student-1'],
      ['Zoe Smith', 'student-1'],
      ['"Zo\\u00eb Smith"', '"student-1"'],
      ['Zo&euml; Smith', 'student-1'],
      ['Zo&#235; Smith', 'student-1'],
    ]);
    const mueller = createScrubber([{ name: 'Jürgen Müller', email: '', sid: '' }]);
    assert.equal(mueller('Juergen Mueller, Jurgen Muller, JÜRGEN MÜLLER'), 'student-1, student-1, student-1');
  });

  void it('finds "Last, First", subsets of First Middle Last, and initials with the last name', () => {
    expectScrubbed([
      ['Doe-Smith, Zoë', 'student-1'],
      ['Smith, Zoe Marie', 'student-1'],
      ['Marie Smith', 'student-1'],
      ['Z. Smith', 'student-1'],
      ['Z. M. Smith', 'student-1'],
      ['ZSmith', 'student_1'],
      ['zsmith@other.org', 'student_1@other.org'],
      ['Smith, Z.', 'student-1'],
    ]);
  });

  void it('finds the email, its local part alone, and the sid inside tokens', () => {
    expectScrubbed([
      ['mail ZOE.DOE+CS101@uni.example.edu.', 'mail student-1@example.invalid.'],
      ['zoe.doe+cs101%40uni.example.edu', 'student-1@example.invalid'],
      ['login zoe.doe+cs101 or zoe.doe', 'login student-1 or student-1'],
      ['hw1_A12345678.py', 'hw1_SID_1.py'],
      ['A12345678.py', 'SID-1.py'],
      ['id=a12345678', 'id=SID-1'],
    ]);
  });

  void it('finds a name right after an escaped newline or tab', () => {
    expectScrubbed([
      ['"Hello\\nzoe smith\\tZoë"', '"Hello\\nstudent-1\\tstudent_1"'],
      ['print("\\nZoe Doe-Smith")', 'print("\\nstudent-1")'],
    ]);
  });

  void it('finds a UTF-8 name in a file read as Latin-1 because of one stray byte', () => {
    const mojibake = Buffer.from('# Zoë Doe-Smith\n', 'utf8').toString('latin1');
    expectScrubbed([[mojibake, '# student-1\n']]);
  });

  void it('replaces each member of a group with their own token', () => {
    expectScrubbed([
      ['Zoë Smith and Li Na (ln@uni.example.edu)', 'student-1 and student-2 (student-2@example.invalid)'],
    ]);
  });

  void it('does not over-scrub: short parts, lower-case words, words containing a name, short sids', () => {
    const code = [
      'x = 77; y = 1777',
      'li = [1, 2]; na = None; lina = "Lina"',
      'max(marie, smith) + MARIE_LIMIT',
      'Zoeys = Smithson + Mariette',
      'a student wrote this',
    ].join('\n');
    assert.equal(scrub(code), code);
  });

  void it('replaces a capitalised name part of three letters or more on its own', () => {
    expectScrubbed([['Thanks, Marie! Smith was here.', 'Thanks, student_1! student_1 was here.']]);
  });

  void it('leaves text alone when there is nothing to look for', () => {
    const none = createScrubber([{ name: '', email: '', sid: '' }]);
    assert.equal(none('Zoë Smith'), 'Zoë Smith');
  });
});
