import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import JSZip from 'jszip';
import { detectContent } from '../../../src/submission/detect-content.js';

const bytes = (...values: (number | string)[]) =>
  new Uint8Array(values.flatMap((value) => (typeof value === 'string' ? [...Buffer.from(value, 'latin1')] : [value])));

async function zipOf(names: string[]): Promise<Uint8Array> {
  const zip = new JSZip();
  for (const name of names) zip.file(name, `content of ${name}`);
  return zip.generateAsync({ type: 'uint8array' });
}

void describe('detectContent', () => {
  void it('recognises documents and images by their first bytes, whatever the file is called', () => {
    const cases: [Uint8Array, string][] = [
      [bytes('%PDF-1.7\n'), 'PDF'],
      [bytes(0x89, 'PNG\r\n', 0x1a, '\n'), 'PNG image'],
      [bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'JFIF'), 'JPEG image'],
      [bytes('GIF89a'), 'GIF image'],
      [bytes('RIFF', 0, 0, 0, 0, 'WEBPVP8 '), 'WebP image'],
      [bytes(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1), 'OLE (doc/xls/ppt)'],
      [bytes('{\\rtf1\\ansi'), 'RTF'],
    ];
    for (const [content, format] of cases) assert.deepEqual(detectContent(content), { kind: 'document', format });
  });

  void it('tells office files from other zips by their entry names', async () => {
    const docx = await zipOf(['[Content_Types].xml', '_rels/.rels', 'word/document.xml']);
    const xlsx = await zipOf(['_rels/.rels', 'xl/workbook.xml']);
    const odt = await zipOf(['mimetype', 'content.xml', 'META-INF/manifest.xml']);
    const jar = await zipOf(['META-INF/MANIFEST.MF', 'org/junit/Test.class', 'word/notes.txt']);
    for (const office of [docx, xlsx, odt]) assert.equal(detectContent(office).kind, 'document');
    assert.deepEqual(detectContent(jar), { kind: 'zip', format: 'zip' });
  });

  void it('recognises archives it does not open', () => {
    const tar = new Uint8Array(512);
    tar.set(Buffer.from('ustar'), 257);
    for (const archive of [bytes(0x1f, 0x8b, 8), bytes('BZh91AY'), bytes('Rar!', 0x1a, 7), tar]) {
      assert.equal(detectContent(archive).kind, 'other-archive');
    }
  });

  void it('leaves text and unknown data as other, including text that starts with BM', () => {
    for (const other of [bytes('BMI = weight / height ** 2\n'), bytes('print("hi")\n'), bytes(1, 2, 3)]) {
      assert.equal(detectContent(other).kind, 'other');
    }
  });
});
