// A group submission whose students' personal data sits everywhere a real one can put it, for the PII sweep.
import JSZip from 'jszip';
import { writeZip } from '../../src/submission/write-zip.js';
import { buildGradescopeZip, DEFAULT_SOURCE_FILES, defaultMetadata } from './gradescope-zip.js';

/** The two submitters: an accented three-letter-plus name with an extension, and a partner. */
export const PII_STUDENTS = [
  { id: 7654321, name: 'Renée Ångström', email: 'renee.angstrom@uni.example.edu', sid: 'U98765432' },
  { id: 7654322, name: 'Kwame Mensah', email: 'kmensah@uni.example.edu', sid: 'U11223344' },
] as const;

/** The first student's own deadline: an extension, which must not be kept. */
export const EXTENSION_DUE_DATE = '2023-11-22T10:42:00.000000-08:00';

const [renee, kwame] = PII_STUDENTS;
const nfd = (text: string) => text.normalize('NFD');

/** A header naming both students in the spellings people write. */
const header = [
  `# Authors: ${renee.name} <${renee.email}> (${renee.sid}), ${kwame.name} <${kwame.email}> (${kwame.sid})`,
  `# NFD: ${nfd(renee.name)}; stripped: Renee Angstrom; reversed: Ångström, Renée; initials: R. Ångström`,
  '# logins: renee.angstrom, kmensah; ids: hw1_U98765432, U11223344.py; joined: renee_angstrom, ReneeAngstrom',
  '# German style: Renee Angstroem; upper: RENÉE ÅNGSTRÖM; camel: reneeAngstrom',
].join('\n');

const studentCode = `${header}\n\n\ndef add(a, b):\n    return a + b\n\n\ndef multiply(a, b):\n    return a * b\n`;

/** results.json as raw text: names right after escaped newlines and tabs, and spelt with \u escapes. */
const resultsJson = `{"tests": [{"name": "add(2, 3)", "score": 5, "max_score": 5, "output": "Graded for\\nrenee angstrom\\tRen\\u00e9e \\u00c5ngstr\\u00f6m (U98765432)"}, {"name": "multiply(4, 5)", "score": 5, "max_score": 5, "output": "\\nKwame Mensah\\u0020kmensah@uni.example.edu"}], "execution_time": 0.02}`;

const notebook = JSON.stringify(
  {
    cells: [
      { cell_type: 'markdown', metadata: {}, source: [`# Lab 1\n`, `by ${renee.name} (${renee.sid})\n`] },
      { cell_type: 'code', metadata: {}, outputs: [], source: [`print("Hello\\n${nfd(renee.name)}")\n`] },
    ],
    metadata: { authors: [{ name: renee.name, email: renee.email }] },
    nbformat: 4,
    nbformat_minor: 5,
  },
  null,
  1,
);

async function docx(text: string): Promise<Uint8Array> {
  const zip = new JSZip();
  zip.file('[Content_Types].xml', '<?xml version="1.0"?><Types/>');
  zip.file('word/document.xml', `<w:document><w:body><w:p><w:r><w:t>${text}</w:t></w:r></w:p></w:body></w:document>`);
  return zip.generateAsync({ type: 'uint8array' });
}

const pdf = (text: string) => new TextEncoder().encode(`%PDF-1.4\n1 0 obj << /Author (${text}) >> endobj\n%%EOF\n`);

/** Builds the gradescope_data.zip of the sweep. */
export async function buildPiiSubmissionZip(): Promise<Uint8Array> {
  const metadata = defaultMetadata();
  metadata.users = PII_STUDENTS.map((student, index) => ({
    ...student,
    assignment: {
      release_date: metadata.assignment.release_date,
      due_date: index === 0 ? EXTENSION_DUE_DATE : metadata.assignment.due_date,
      late_due_date: metadata.assignment.late_due_date,
    },
  }));
  const nested = await writeZip(
    new Map([
      [`${renee.sid}_notes.md`, new TextEncoder().encode(`Notes by ${renee.name}, ${renee.email}\n`)],
      ['inner/cv.pdf', pdf(renee.name)],
    ]),
  );
  return buildGradescopeZip({
    metadata,
    results: resultsJson,
    submissionFiles: {
      'renee_angstrom_hw1.py': studentCode,
      'calculator.py': `from renee_angstrom_hw1 import add, multiply  # ${kwame.name}\n`,
      'lab1.ipynb': notebook,
      'notes_latin1.txt': new Uint8Array(Buffer.from(`Auteur : ${renee.name}, ${renee.sid}\n`, 'latin1')),
      // UTF-8 but for one stray byte, so the whole file is read as Latin-1.
      'mixed_encoding.txt': new Uint8Array([...Buffer.from(`Par ${renee.name}`, 'utf8'), 0xff, 0x0a]),
      'readme_utf16.txt': new Uint8Array([
        0xff,
        0xfe,
        ...Buffer.from(`By ${renee.name} <${renee.email}>\n`, 'utf16le'),
      ]),
      'report.txt': pdf(`${renee.name} ${renee.sid}`),
      'essay.docx': await docx(`${renee.name} ${renee.email}`),
      'extra.zip': nested,
    },
    sourceFiles: { ...DEFAULT_SOURCE_FILES, 'renee_angstrom_hw1.py': studentCode },
    extra: {
      'gradescope/submission_log.txt': `uploaded by ${nfd(renee.name)} <${renee.email}> as hw1_${renee.sid}.zip\n`,
      [`gradescope/${renee.sid}/ReneeAngstrom.txt`]: `${kwame.name}\n`,
    },
  });
}

/** Every identity of the sweep's students, as the sweeps look for them (the search folds case, accents, escapes). */
export const PII_NEEDLES: readonly string[] = [
  ...PII_STUDENTS.flatMap((student) => [
    ...student.name.split(' '),
    student.email,
    student.email.split('@')[0] ?? '',
    student.sid,
    String(student.id),
  ]),
  EXTENSION_DUE_DATE.slice(0, 10),
];
