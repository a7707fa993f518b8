import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import JSZip from 'jszip';
import { InvalidSubmissionError, type InvalidSubmissionReason } from '../../../src/submission/errors.js';
import { readZipSafely, type ZipLimits } from '../../../src/submission/read-zip-safely.js';
import { buildGradescopeZip } from '../../support/gradescope-zip.js';

const limits: ZipLimits = { maxEntries: 100, maxUncompressedBytes: 1024 * 1024 };
const MB = 1024 * 1024;

/** A zip holding the given entries exactly as named (jszip does not normalise names when writing). */
async function rawZip(
  entries: Record<string, string | Uint8Array | Readable>,
  options: JSZip.JSZipFileOptions = {},
  compression: 'STORE' | 'DEFLATE' = 'DEFLATE',
): Promise<Uint8Array> {
  const zip = new JSZip();
  for (const [name, content] of Object.entries(entries)) zip.file(name, content, { createFolders: false, ...options });
  return zip.generateAsync({ type: 'uint8array', compression, platform: 'UNIX' });
}

/** Zeros streamed in 64 KiB chunks, so building a bomb never holds it in memory. */
function zeros(totalBytes: number): Readable {
  const chunk = new Uint8Array(64 * 1024);
  return Readable.from(
    (function* () {
      for (let sent = 0; sent < totalBytes; sent += chunk.length) yield chunk;
    })(),
  );
}

// 50 MB of zeros deflates to about 50 KB; built once, since deflating it takes half a second.
let bombZip: Promise<Uint8Array> | undefined;
function zipBomb(): Promise<Uint8Array> {
  bombZip ??= rawZip({ 'autograder/submission/zeros.bin': zeros(50 * MB) });
  return bombZip;
}

async function rejectsWith(promise: Promise<unknown>, reason: InvalidSubmissionReason, message?: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InvalidSubmissionError, `expected InvalidSubmissionError, got ${String(error)}`);
    assert.equal(error.reason, reason, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

void describe('readZipSafely', () => {
  void it('strips the gradescope_data/ folder and keeps only regular files, with their modes', async () => {
    const { files, modes, rootPrefix, ignoredPaths } = await readZipSafely(await buildGradescopeZip(), limits);
    assert.equal(rootPrefix, 'gradescope_data/');
    assert.deepEqual(ignoredPaths, []);
    assert.ok(files.has('autograder/submission_metadata.json'));
    assert.ok(files.has('autograder/submission/calculator.py'));
    assert.equal(modes.get('autograder/source/run_autograder'), 0o755);
    assert.equal(modes.get('autograder/submission/calculator.py'), 0o644);
    assert.deepEqual([...files.keys()], [...files.keys()].sort());
  });

  void it('accepts a zip of the bare tree and ignores files outside the detected root', async () => {
    const bare = await readZipSafely(await buildGradescopeZip({ rootPrefix: '' }), limits);
    assert.equal(bare.rootPrefix, '');
    assert.ok(bare.files.has('hostname.txt'));

    const zip = await JSZip.loadAsync(await buildGradescopeZip({ rootPrefix: 'outer/gradescope_data/' }));
    zip.file('__MACOSX/._hostname.txt', 'resource fork');
    const bytes = await zip.generateAsync({ type: 'uint8array' });
    const nested = await readZipSafely(bytes, limits);
    assert.equal(nested.rootPrefix, 'outer/gradescope_data/');
    assert.deepEqual(nested.ignoredPaths, ['__MACOSX/._hostname.txt']);
  });

  void it('a student file named like the metadata does not move the root', async () => {
    const bytes = await buildGradescopeZip({ submissionFiles: { 'autograder/submission_metadata.json': '{}' } });
    const { rootPrefix, files } = await readZipSafely(bytes, limits);
    assert.equal(rootPrefix, 'gradescope_data/');
    assert.ok(files.has('autograder/submission/autograder/submission_metadata.json'));
  });

  void it('refuses bytes that are not a zip', async () => {
    await rejectsWith(readZipSafely(new TextEncoder().encode('definitely not a zip'), limits), 'not-a-zip');
    await rejectsWith(readZipSafely(new Uint8Array(), limits), 'not-a-zip');
  });

  void it('refuses a zip cut short in transit', async () => {
    const bytes = await buildGradescopeZip();
    await rejectsWith(readZipSafely(bytes.slice(0, Math.floor(bytes.length / 2)), limits), 'truncated-zip');
    await rejectsWith(readZipSafely(bytes.slice(0, bytes.length - 10), limits), 'truncated-zip');
  });

  void it('refuses a zip whose stored data was altered (CRC-32 mismatch)', async () => {
    const bytes = await rawZip({ 'autograder/submission_metadata.json': 'AAAAAAAAAAAAAAAA' }, {}, 'STORE');
    const at = Buffer.from(bytes).indexOf('AAAA');
    bytes[at] = 0x42;
    await rejectsWith(readZipSafely(bytes, limits), 'corrupt-zip', /CRC-32/);
  });

  void it('refuses a zip bomb from its declared size, before inflating it', async () => {
    const bomb = await zipBomb();
    assert.ok(bomb.length < 200 * 1024, `bomb is ${bomb.length} bytes`);
    const reading = readZipSafely(bomb, { maxEntries: 10, maxUncompressedBytes: 10 * MB });
    await rejectsWith(reading, 'too-large-uncompressed', /declares/);
  });

  void it('stops inflating a zip bomb that lies about its size once the limit is passed', async () => {
    const bomb = (await zipBomb()).slice();
    // Rewrite the central directory's uncompressed size (offset 24 of the header) to claim 1000 bytes.
    const header = Buffer.from(bomb).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    new DataView(bomb.buffer, bomb.byteOffset).setUint32(header + 24, 1000, true);
    const before = process.memoryUsage().arrayBuffers;
    const reading = readZipSafely(bomb, { maxEntries: 10, maxUncompressedBytes: 2 * MB });
    await rejectsWith(reading, 'too-large-uncompressed', /inflates past/);
    assert.ok(process.memoryUsage().arrayBuffers - before < 40 * MB, 'the bomb was inflated in full');
  });

  void it('applies the per-file limit', async () => {
    const bytes = await rawZip({ 'a.txt': 'x'.repeat(2000), 'b.txt': 'y' });
    await rejectsWith(readZipSafely(bytes, { ...limits, maxEntryBytes: 1000 }), 'too-large-uncompressed', /per file/);
  });

  void it('refuses more entries than allowed', async () => {
    const entries = Object.fromEntries(Array.from({ length: 20 }, (_, index) => [`file-${index}.txt`, 'x']));
    await rejectsWith(readZipSafely(await rawZip(entries), { ...limits, maxEntries: 10 }), 'too-many-entries');
  });

  for (const [title, name] of [
    ['a ../ segment', '../evil'],
    ['a nested ../ segment', 'gradescope_data/autograder/../../evil'],
    ['an absolute path', '/etc/cron.d/evil'],
    ['a drive letter', 'C:/Windows/evil'],
    ['backslash separators', '..\\..\\evil'],
    ['a NUL character', 'evil.txt\0.py'],
  ] as const) {
    void it(`refuses an entry name with ${title}`, async () => {
      const bytes = await rawZip({ 'gradescope_data/autograder/submission_metadata.json': '{}', [name]: 'x' });
      await rejectsWith(readZipSafely(bytes, limits), 'path-traversal');
    });
  }

  void it('refuses a symbolic link', async () => {
    const bytes = await rawZip({ 'autograder/submission/passwd': '/etc/passwd' }, { unixPermissions: 0o120777 });
    await rejectsWith(readZipSafely(bytes, limits), 'symlink');
  });

  void it('refuses a device or pipe entry', async () => {
    const bytes = await rawZip({ 'autograder/submission/fifo': '' }, { unixPermissions: 0o010644 });
    await rejectsWith(readZipSafely(bytes, limits), 'special-file');
  });

  void it("keeps an entry's name out of the reason when the zip library names it", async () => {
    const bytes = await rawZip({ 'autograder/submission/Jane_Doe_hw1.py': 'print(1)\n' }, {}, 'STORE');
    // Compression method 99 (AES) in the local header and the central directory: jszip names the entry then.
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const [signature, offset] of [
      [0x04034b50, 8],
      [0x02014b50, 10],
    ] as const) {
      view.writeUInt16LE(99, view.indexOf(Buffer.from(new Uint32Array([signature]).buffer)) + offset);
    }
    const error = await readZipSafely(bytes, limits).then(
      () => assert.fail('a zip whose entry cannot be read was accepted'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof InvalidSubmissionError);
    assert.equal(error.reason, 'corrupt-zip');
    assert.match(error.message, /compression .* unknown \(in one of its entries\)/);
    assert.doesNotMatch(error.message, /jane|doe|hw1/i);
    assert.equal(error.cause, undefined, 'the library error, which names the entry, is not kept as the cause');
  });
});
