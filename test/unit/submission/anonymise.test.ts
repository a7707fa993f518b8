import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anonymiseTree, type AnonymiseOptions } from '../../../src/submission/anonymise.js';
import { pseudonymOf } from '../../../src/submission/pseudonym.js';
import { readZipSafely } from '../../../src/submission/read-zip-safely.js';
import type { StudentIdentity } from '../../../src/submission/scrub-text.js';
import { writeZip } from '../../../src/submission/write-zip.js';

const zoe: StudentIdentity = { name: 'Zoë Doe', email: 'zoe.doe@uni.example.edu', sid: 'A12345678' };
const bo: StudentIdentity = { name: 'Bo Lindqvist', email: 'bo.l@uni.example.edu', sid: '' };
const key = new TextEncoder().encode('unit-test pseudonym key');
const options: AnonymiseOptions = {
  pseudonymKey: key,
  nestedBudget: { maxEntries: 100, maxUncompressedBytes: 1 << 20 },
};
const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const personal = /zo[eë]|doe|a12345678|lindqvist/i;

const metadata = {
  id: 1,
  assignment: { id: 9, due_date: '2023-11-15T10:42:00-08:00', late_due_date: '2023-11-17T10:42:00-08:00' },
  users: [
    { id: 2, ...zoe, assignment: { due_date: '2023-11-20T10:42:00-08:00' }, extension: { hours: 48 } },
    { id: 3, ...bo },
  ],
  previous_submissions: [{ results: { output: 'Hello Zoë Doe' } }],
};

async function anonymise(files: Record<string, Uint8Array | string>) {
  const tree = {
    files: new Map(
      Object.entries(files).map(([path, content]) => [path, typeof content === 'string' ? encode(content) : content]),
    ),
    modes: new Map([['autograder/source/zoe_doe_run.sh', 0o755]]),
    rootPrefix: 'Zoe Doe/',
  };
  return anonymiseTree(tree, [zoe, bo], options);
}

void describe('anonymiseTree', () => {
  void it('scrubs text in every folder, not only the submission', async () => {
    const result = await anonymise({
      'autograder/submission/main.py': `# by ${zoe.name} <${zoe.email}>\n`,
      'autograder/source/main.py': `# by ${zoe.name} <${zoe.email}>\n`,
      'gradescope/harness.log': 'graded Zoe Doe (A12345678)\n',
      'other/notes.txt': 'Doe, Zoë and Bo Lindqvist\n',
      'autograder/submission/untouched.py': 'print("nothing personal")\n',
    });
    for (const [path, content] of result.files) assert.doesNotMatch(decode(content), personal, path);
    assert.equal(decode(result.files.get('autograder/source/main.py')), '# by student-1 <student-1@example.invalid>\n');
    assert.equal(decode(result.files.get('other/notes.txt')), 'student-1 and student-2\n');
    assert.equal(result.report.filesChanged, 4);
  });

  void it('renames files and folders named after a student, keeping their modes and references in step', async () => {
    const result = await anonymise({
      'autograder/source/zoe_doe_run.sh': './A12345678/zoe_doe_hw1.py\n',
      'autograder/submission/A12345678/zoe_doe_hw1.py': 'import zoe_doe_util\n',
      'autograder/submission/A12345678/zoe_doe_util.py': '',
      'autograder/submission/ZoeDoe_hw1.py': '',
    });
    assert.deepEqual([...result.files.keys()].sort(), [
      'autograder/source/student_1_run.sh',
      'autograder/submission/SID-1/student_1_hw1.py',
      'autograder/submission/SID-1/student_1_util.py',
      'autograder/submission/student_1_hw1.py',
    ]);
    assert.equal(decode(result.files.get('autograder/source/student_1_run.sh')), './SID-1/student_1_hw1.py\n');
    assert.equal(decode(result.files.get('autograder/submission/SID-1/student_1_hw1.py')), 'import student_1_util\n');
    assert.equal(result.modes.get('autograder/source/student_1_run.sh'), 0o755);
    assert.equal(result.rootPrefix, 'student-1/');
    assert.equal(result.report.pathsRenamed, 4);
  });

  void it('gives two paths that scrub alike distinct names', async () => {
    const result = await anonymise({ 'a/zoe_doe.py': '1', 'a/ZoeDoe.py': '2' });
    assert.deepEqual([...result.files.keys()].sort(), ['a/student_1-2.py', 'a/student_1.py']);
  });

  void it('keeps Latin-1 and UTF-16 files in their encoding', async () => {
    const latin1 = new Uint8Array(Buffer.from('# Zoë Doe, café\n', 'latin1'));
    const utf16 = new Uint8Array([0xff, 0xfe, ...Buffer.from('// Zoë Doe\n', 'utf16le')]);
    const result = await anonymise({ 'a/latin1.py': latin1, 'a/utf16.java': utf16 });
    assert.deepEqual(result.files.get('a/latin1.py'), new Uint8Array(Buffer.from('# student-1, café\n', 'latin1')));
    assert.deepEqual(
      result.files.get('a/utf16.java'),
      new Uint8Array([0xff, 0xfe, ...Buffer.from('// student-1\n', 'utf16le')]),
    );
  });

  void it('replaces documents, found by content, with a placeholder at the same path', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...encode('Zoë Doe')]);
    const result = await anonymise({
      'autograder/source/notes.txt': '%PDF-1.7 Zoë Doe',
      'gradescope/photo.dat': png,
    });
    assert.match(
      decode(result.files.get('autograder/source/notes.txt')),
      /^Removed by GreenGrader's anonymisation: .*PDF data \(17 bytes\)/,
    );
    assert.match(decode(result.files.get('gradescope/photo.dat')), /PNG image/);
    assert.equal(result.report.documentsReplaced, 2);
  });

  void it('anonymises zips inside the zip and replaces other archives', async () => {
    const inner = await writeZip(
      new Map([
        ['zoe_doe/hw.py', encode('# Zoë Doe\n')],
        ['cv.pdf', encode('%PDF-1.4')],
      ]),
    );
    const outer = await writeZip(new Map([['inner.zip', inner]]));
    const gzip = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, ...encode('Zoë Doe')]);
    const result = await anonymise({
      'autograder/submission/outer.zip': outer,
      'autograder/submission/data.tgz': gzip,
    });
    const limits = { maxEntries: 10, maxUncompressedBytes: 1 << 20 };
    const unpackedOuter = await readZipSafely(
      result.files.get('autograder/submission/outer.zip') ?? new Uint8Array(),
      limits,
    );
    const unpackedInner = await readZipSafely(unpackedOuter.files.get('inner.zip') ?? new Uint8Array(), limits);
    assert.deepEqual([...unpackedInner.files.keys()].sort(), ['cv.pdf', 'student_1/hw.py']);
    assert.equal(decode(unpackedInner.files.get('student_1/hw.py')), '# student-1\n');
    assert.match(decode(unpackedInner.files.get('cv.pdf')), /^Removed/);
    assert.match(decode(result.files.get('autograder/submission/data.tgz')), /gzip data .*not opened/);
    assert.equal(result.report.archivesAnonymised, 2);
    assert.equal(result.report.archivesReplaced, 1);
  });

  void it('replaces a nested zip that does not fit the remaining unzip budget', async () => {
    const inner = await writeZip(new Map([['big.txt', new Uint8Array(4096)]]));
    const tree = { files: new Map([['a/inner.zip', inner]]), modes: new Map<string, number>(), rootPrefix: '' };
    const result = await anonymiseTree(tree, [zoe], {
      ...options,
      nestedBudget: { maxEntries: 10, maxUncompressedBytes: 1000 },
    });
    assert.match(decode(result.files.get('a/inner.zip')), /could not be opened safely \(too-large-uncompressed\)/);
  });

  void it('gives users pseudonymous ids and tokens, drops their own dates and extra fields, keeps the assignment dates', async () => {
    const result = await anonymise({ 'autograder/submission_metadata.json': JSON.stringify(metadata) });
    const json = JSON.parse(decode(result.files.get('autograder/submission_metadata.json'))) as typeof metadata;
    assert.deepEqual(json.users, [
      { id: pseudonymOf(2, key), name: 'student-1', email: 'student-1@example.invalid', sid: 'SID-1' },
      { id: pseudonymOf(3, key), name: 'student-2', email: 'student-2@example.invalid', sid: '' },
    ]);
    assert.deepEqual(json.assignment, metadata.assignment);
    assert.deepEqual(json.previous_submissions, [{ results: { output: 'Hello student-1' } }]);
  });
});

void describe('pseudonymOf', () => {
  void it('is stable for one key, differs across keys and ids, and stays a safe integer', () => {
    assert.equal(pseudonymOf(2651667, key), pseudonymOf(2651667, key));
    assert.notEqual(pseudonymOf(2651667, key), pseudonymOf(2651668, key));
    assert.notEqual(pseudonymOf(2651667, key), pseudonymOf(2651667, encode('another key entirely')));
    assert.ok(Number.isSafeInteger(pseudonymOf(2651667, key)));
  });
});

void describe('notebooks', () => {
  void it('lose the images of their outputs and are scrubbed like any JSON', async () => {
    const notebook = {
      cells: [
        {
          cell_type: 'code',
          source: ['plot("Zoë Doe")\n'],
          outputs: [{ output_type: 'display_data', data: { 'image/png': 'iVBORw0KGgo=', 'text/plain': '<Figure>' } }],
        },
        { cell_type: 'code', source: [], outputs: [{ data: { 'image/jpeg': '/9j/4AAQ' } }] },
      ],
    };
    const result = await anonymise({ 'lab.ipynb': JSON.stringify(notebook) });
    const text = decode(result.files.get('lab.ipynb'));
    assert.deepEqual(JSON.parse(text), {
      cells: [
        {
          cell_type: 'code',
          source: ['plot("student-1")\n'],
          outputs: [{ output_type: 'display_data', data: { 'text/plain': '<Figure>' } }],
        },
        {
          cell_type: 'code',
          source: [],
          outputs: [{ data: { 'text/plain': "[image removed by GreenGrader's anonymisation]" } }],
        },
      ],
    });
    assert.ok(text.startsWith('{\n "cells": [\n'), 'written with nbformat indentation');
    assert.equal(result.report.documentsReplaced, 1);
  });

  void it("replaces binary content that spells a student's name, login or id, and keeps the rest byte for byte", async () => {
    const nul = new Uint8Array([0, 1, 0xe3, 0]);
    const bytes = (...parts: (Uint8Array | string)[]) =>
      new Uint8Array(Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part))));
    // What Python's bytecode keeps: the source's path, with the student's login in the file name.
    const pyc = bytes(nul, '/autograder/submission/hw1_zoe.doe.py', nul, '<module>', nul);
    // Desktop metadata keeps file names in UTF-16 (big-endian in .DS_Store), at any alignment.
    const dsStore = bytes(nul, '\u0001', Buffer.from('Lindqvist Bo notes', 'utf16le').swap16(), nul);
    const accented = bytes(nul, Buffer.from('Zoë_Doe_hw1.py', 'utf16le'), nul);
    const withSid = bytes(nul, 'student id: A12345678;', nul);
    // A Java class file's constant pool: a length, then the string, with no printable bytes around it.
    const classFile = bytes(new Uint8Array([0xca, 0xfe, 0xba, 0xbe, 1, 0, 7]), 'Zoe Doe', new Uint8Array([7, 0]));
    // An ordinary word that is also a first name, and bytes with no string in them, stay.
    const library = bytes(nul, 'Bo: maximum iterations exceeded', nul);
    let seed = 7;
    const noise = new Uint8Array(1 << 20).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    // Small 16-bit values (quiet audio, labels) read as UTF-16 look like ASCII text.
    const samples = new Uint8Array(
      new Uint16Array(1 << 19).map(() => 0x20 + ((seed = (seed * 69069 + 1) >>> 0) % 95)).buffer,
    );
    const result = await anonymise({
      'autograder/submission/__pycache__/x.pyc': pyc,
      'autograder/submission/.DS_Store': dsStore,
      'autograder/submission/Thumbs.db': accented,
      'autograder/submission/ids.bin': withSid,
      'autograder/submission/Main.class': classFile,
      'autograder/source/quiet.wav': samples,
      'autograder/source/lib.so': library,
      'autograder/source/weights.bin': noise,
    });
    for (const path of ['__pycache__/x.pyc', '.DS_Store', 'Thumbs.db', 'ids.bin', 'Main.class']) {
      const text = decode(result.files.get(`autograder/submission/${path}`));
      assert.match(text, /^Removed by GreenGrader's anonymisation: this file held binary data/, path);
      assert.doesNotMatch(text, personal, path);
    }
    assert.deepEqual(result.files.get('autograder/source/lib.so'), library);
    assert.deepEqual(result.files.get('autograder/source/weights.bin'), noise);
    assert.deepEqual(result.files.get('autograder/source/quiet.wav'), samples);
    assert.equal(result.report.documentsReplaced, 5);
  });
});
