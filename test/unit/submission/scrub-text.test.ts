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

  void it('finds every part of a name longer than five parts on its own', () => {
    const long = createScrubber([{ name: 'María de los Ángeles García Fernández', email: '', sid: '' }]);
    assert.doesNotMatch(long('García, María García, Fernández'), /Mar[ií]a|Garc[ií]a|Fern[aá]ndez/);
    assert.equal(long('Ángeles wrote it'), 'student_1 wrote it');
    const six = createScrubber([{ name: 'Maria da Silva dos Santos Oliveira Costa', email: '', sid: '' }]);
    assert.doesNotMatch(six('Santos Oliveira and Maria Costa'), /Santos|Oliveira|Maria|Costa/);
  });

  void it('finds names in scripts without capitals, run into the text around them where words have no spaces', () => {
    const cjk = createScrubber([
      { name: '王小明', email: '', sid: '' },
      { name: '김민준', email: '', sid: '' },
      { name: '山田 太郎', email: '', sid: '' },
      { name: 'محمد علي', email: '', sid: '' },
    ]);
    assert.equal(cjk('作者：王小明'), '作者：student_1');
    assert.equal(cjk('我是王小明的同学'), '我是student_1的同学');
    assert.equal(cjk('王小明.py'), 'student_1.py');
    assert.equal(cjk('김민준은 학생'), 'student_2은 학생');
    assert.equal(cjk('山田太郎 and 山田 太郎'), 'student_3 and student-3');
    assert.equal(cjk('山田'), '山田', 'a two-character family name alone is too common to be the student');
    assert.equal(cjk('كتب محمد الكود'), 'كتب student_4 الكود');
    assert.equal(cjk('محمدي'), 'محمدي', 'spaced scripts keep their word edges');
    const words = createScrubber([
      { name: '佐藤 みどり', email: '', sid: '' },
      { name: '이 지만', email: '', sid: '' },
      { name: 'สมชาย ใจดี', email: '', sid: '' },
    ]);
    for (const text of ['みどりいろの葉っぱ', '학생이지만', 'คนใจดีมาก']) {
      assert.equal(words(text), text, `a word that is also a name part stays: ${text}`);
    }
    // A whole name in kana or Thai is specific enough to be found inside running text.
    const whole = createScrubber([
      { name: '山田 さくら', email: '', sid: '' },
      { name: 'スミス ジョン', email: '', sid: '' },
      { name: 'สมชาย ใจดี', email: '', sid: '' },
    ]);
    assert.equal(whole('山田さくらの課題'), 'student_1の課題');
    assert.equal(whole('作者はスミスジョンです'), '作者はstudent_2です');
    assert.equal(whole('นายสมชาย ใจดี'), 'นายstudent-3');
  });

  void it('finds an apostrophe typed, escaped or encoded in any of the usual ways', () => {
    const obrien = createScrubber([{ name: 'Seán O’Brien', email: '', sid: '' }]);
    for (const text of [
      "O'Brien",
      'O’Brien',
      'Oʼbrien',
      'O‘Brien',
      "O\\'Brien",
      'O&#39;Brien',
      'O&#x27;Brien',
      'O&apos;Brien',
      'O Brien',
      'OBrien',
      'O\u0092Brien',
    ]) {
      assert.doesNotMatch(obrien(`by ${text}`), /brien/i, JSON.stringify(text));
    }
  });

  void it('finds a sid without its separators or its leading zeros, never inside a longer number', () => {
    const ids = createScrubber([
      { name: 'Ann Lee', email: '', sid: '123-45-678' },
      { name: 'Bo Ek', email: '', sid: '000123456' },
      { name: 'Cy Ng', email: '', sid: '00000123' },
    ]);
    assert.equal(ids('123-45-678, 123 45 678, 12345678'), 'SID-1, SID-1, SID-1');
    assert.equal(ids('81234.5678 and 1234.5678 are numbers'), '81234.5678 and 1234.5678 are numbers');
    assert.equal(ids('000123456 or 123456, not 1123456 nor 0.1234567'), 'SID-2 or SID-2, not 1123456 nor 0.1234567');
    assert.equal(ids('00000123 but x = 123'), 'SID-3 but x = 123', 'three digits left are an ordinary number');
  });

  void it('looks in binary content only for spellings no ordinary word, number or chance spells', () => {
    const binary = (identity: StudentIdentity) => createScrubber([identity], { binary: true });
    const max = binary({ name: 'Max Power', email: 'mpower@uni.example.edu', sid: '' });
    assert.equal(max('Max iterations; by Max Power (mpower)'), 'Max iterations; by student-1 (mpower)');
    const henry = binary({ name: 'Henry Ash', email: 'max@uni.example.edu', sid: '00012345' });
    assert.equal(henry('__hash__ max 12345 H. Ash'), '__hash__ max 12345 H. Ash');
    const bo = binary({ name: 'Bo Ek', email: 'bo.ek@uni.example.edu', sid: 'A1234' });
    assert.equal(bo('bo_ek A1234 BoEk'), 'bo_ek A1234 BoEk', 'short names, logins and sids are left to chance');
    const words = binary({ name: 'Max Read', email: 'string@uni.example.edu', sid: '' });
    assert.equal(words('java/lang/String maxRead'), 'java/lang/String maxRead', 'a login of letters alone is a word');
    // Python's marshal writes the next object's type byte right after a string: `Jane Doe` then `z`.
    const jane = binary({ name: 'Jane Doe', email: 'jane.doe7@uni.example.edu', sid: '' });
    assert.equal(jane('Jane Doez\njane.doe7r\nJane Doest'), 'student-1z\nstudent-1r\nJane Doest');
  });
});
