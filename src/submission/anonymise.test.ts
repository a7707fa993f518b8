import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  anonymiseEntries,
  anonymiseMetadataJson,
  decodeText,
  PLACEHOLDER_EMAIL,
  PLACEHOLDER_NAME,
  PLACEHOLDER_SID,
} from './anonymise.js';
import { createScrubber, type StudentIdentity } from './scrub-text.js';

const ada: StudentIdentity = { name: 'Ada Lovelace-Byron', email: 'Ada.L+cs101@Uni.Example.edu', sid: 'A1234567' };
const bo: StudentIdentity = { name: 'Bo (Jr.) Li', email: 'bo.li@uni.example.edu', sid: '' };
const placeholder: StudentIdentity = { name: PLACEHOLDER_NAME, email: PLACEHOLDER_EMAIL, sid: PLACEHOLDER_SID };
const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

void describe('createScrubber', () => {
  const scrub = createScrubber([ada, bo], placeholder);

  void it('replaces full names, emails and sids literally, even with regex characters in them', () => {
    assert.equal(
      scrub('# Ada Lovelace-Byron <Ada.L+cs101@Uni.Example.edu> A1234567, Bo (Jr.) Li'),
      '# John Doe <johndoe@uni.edu> A00000000, John Doe',
    );
  });

  void it('matches emails and names whatever their case, and names across any whitespace', () => {
    assert.equal(scrub('ADA.L+CS101@UNI.EXAMPLE.EDU\nada  lovelace-byron\n'), 'johndoe@uni.edu\nJohn Doe\n');
  });

  void it('only matches whole words, and leaves first or last names alone', () => {
    const code = 'sidA1234567 = "A12345678"\nada = Lovelace-Byron()\nBo = 1\n';
    assert.equal(scrub(code), code);
  });

  void it('skips an empty sid and values too short to scrub safely', () => {
    const short = createScrubber([{ name: 'Al', email: 'a@b', sid: '7' }], placeholder);
    assert.equal(short('x = 7  # Al'), 'x = 7  # Al');
  });
});

void describe('anonymiseEntries', () => {
  const metadata = {
    id: 1,
    users: [
      { id: 2, ...ada },
      { id: 3, ...bo },
    ],
    previous_submissions: [{ results: { output: 'Hello Ada Lovelace-Byron' } }],
  };
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, ...encode('Ada Lovelace-Byron')]);
  const latin1 = new Uint8Array([...encode('A1234567 caf'), 0xe9]);
  const files = new Map<string, Uint8Array>([
    ['autograder/submission_metadata.json', encode(JSON.stringify(metadata))],
    ['autograder/submission/main.py', encode(`# by ${ada.name} (${ada.email}), ${ada.sid}\nprint("hi")\n`)],
    ['autograder/submission/untouched.py', encode('print("nothing personal")\n')],
    ['autograder/submission/report.pdf', encode('%PDF-1.7 Ada Lovelace-Byron')],
    ['autograder/submission/docs/Scan.PDF', encode('%PDF-1.4')],
    ['autograder/submission/logo.png', png],
    ['autograder/submission/latin1.txt', latin1],
    ['autograder/results/results.json', encode(`{"output": "Graded bo.li@uni.example.edu"}`)],
    ['autograder/source/tests/test_main.py', encode('# written by the instructor, not Ada Lovelace-Byron\n')],
  ]);

  void it('replaces every user in the metadata, keeping an empty sid empty', () => {
    const { files: anonymised, report } = anonymiseEntries(files, [ada, bo]);
    const json: unknown = JSON.parse(decode(anonymised.get('autograder/submission_metadata.json')));
    assert.deepEqual(json, {
      id: 1,
      users: [
        { id: 2, name: PLACEHOLDER_NAME, email: PLACEHOLDER_EMAIL, sid: PLACEHOLDER_SID },
        { id: 3, name: PLACEHOLDER_NAME, email: PLACEHOLDER_EMAIL, sid: '' },
      ],
      previous_submissions: [{ results: { output: 'Hello John Doe' } }],
    });
    assert.equal(report.usersAnonymised, 2);
  });

  void it('scrubs student and result text files, removes PDFs and keeps binary files byte for byte', () => {
    const { files: anonymised, report } = anonymiseEntries(files, [ada, bo]);
    assert.equal(
      decode(anonymised.get('autograder/submission/main.py')),
      '# by John Doe (johndoe@uni.edu), A00000000\nprint("hi")\n',
    );
    assert.equal(decode(anonymised.get('autograder/results/results.json')), '{"output": "Graded johndoe@uni.edu"}');
    assert.equal(anonymised.has('autograder/submission/report.pdf'), false);
    assert.equal(anonymised.has('autograder/submission/docs/Scan.PDF'), false);
    assert.equal(anonymised.get('autograder/submission/logo.png'), png);
    assert.equal(anonymised.get('autograder/submission/latin1.txt'), latin1);
    assert.equal(anonymised.get('autograder/submission/untouched.py'), files.get('autograder/submission/untouched.py'));
    assert.equal(
      anonymised.get('autograder/source/tests/test_main.py'),
      files.get('autograder/source/tests/test_main.py'),
      "the instructor's files are not the student's",
    );
    assert.deepEqual(report, { usersAnonymised: 2, filesChanged: 2, pdfsRemoved: 2 });
  });

  void it('changes nothing when disabled', () => {
    const { files: same, report } = anonymiseEntries(files, [ada, bo], { enabled: false });
    assert.deepEqual(same, files);
    assert.deepEqual(report, { usersAnonymised: 0, filesChanged: 0, pdfsRemoved: 0 });
  });

  void it('anonymiseMetadataJson does the same to a parsed metadata object', () => {
    const json = anonymiseMetadataJson(metadata, [ada, bo]);
    assert.doesNotMatch(JSON.stringify(json), /Ada|Lovelace|bo\.li|A1234567/i);
  });
});

void describe('decodeText', () => {
  void it('keeps a byte-order mark, so re-encoding gives the same bytes', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...encode('x')]);
    assert.deepEqual(encode(decodeText(bytes) ?? ''), bytes);
  });

  void it('treats NUL bytes and invalid UTF-8 as binary', () => {
    assert.equal(decodeText(new Uint8Array([0x61, 0x00])), null);
    assert.equal(decodeText(new Uint8Array([0xff, 0xfe, 0x61])), null);
  });
});
