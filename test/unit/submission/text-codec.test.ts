import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeText, encodeText, type TextEncodingName } from '../../../src/submission/text-codec.js';

const sample = 'Zoë Doe — naïve café\n';

void describe('decodeText and encodeText', () => {
  const encodings: [TextEncodingName, Uint8Array][] = [
    ['utf-8', new Uint8Array(Buffer.from(sample, 'utf8'))],
    ['utf-8-bom', new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from(sample, 'utf8')])],
    ['utf-16le', new Uint8Array([0xff, 0xfe, ...Buffer.from(sample, 'utf16le')])],
    ['utf-16be', new Uint8Array([0xfe, 0xff, ...Buffer.from(sample, 'utf16le').swap16()])],
  ];
  for (const [encoding, bytes] of encodings) {
    void it(`reads ${encoding} and writes the same bytes back`, () => {
      const decoded = decodeText(bytes);
      assert.deepEqual(decoded, { text: sample, encoding });
      assert.deepEqual(encodeText(sample, encoding), bytes);
    });
  }

  void it('falls back to Latin-1 for text that is not UTF-8, and writes Latin-1 back', () => {
    const bytes = new Uint8Array(Buffer.from('# Zoë Doe, café\n', 'latin1'));
    assert.deepEqual(decodeText(bytes), { text: '# Zoë Doe, café\n', encoding: 'latin1' });
    assert.deepEqual(
      encodeText('# student-1, café\n', 'latin1'),
      new Uint8Array(Buffer.from('# student-1, café\n', 'latin1')),
    );
  });

  void it('calls content with NUL bytes or many control bytes binary', () => {
    assert.equal(decodeText(new Uint8Array([0x61, 0x00, 0x62])), null);
    assert.equal(decodeText(new Uint8Array([0x01, 0x02, 0x03, 0x61, 0x62])), null);
  });

  void it('keeps tabs, form feeds and ANSI escapes as text', () => {
    const text = '\tcolour: \u001b[31mred\u001b[0m\f\r\n';
    assert.deepEqual(decodeText(new TextEncoder().encode(text)), { text, encoding: 'utf-8' });
  });

  void it('refuses UTF-16 with a BOM whose body is not valid UTF-16', () => {
    assert.equal(decodeText(new Uint8Array([0xff, 0xfe, 0x00, 0xd8, 0x41, 0x00])), null);
  });

  void it('reads a file marked UTF-8 that holds one Latin-1 byte as Latin-1, byte-order mark and all', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('// Jane Doe, caf'), 0xe9, 0x0a]);
    const decoded = decodeText(bytes);
    assert.equal(decoded?.encoding, 'latin1');
    assert.equal(decoded.text, 'ï»¿// Jane Doe, café\n');
    assert.deepEqual(encodeText(decoded.text, decoded.encoding), bytes);
  });
});
