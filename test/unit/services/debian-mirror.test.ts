import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mirrorFromDeb822, mirrorFromSourcesList } from '../../../src/services/debian-mirror.js';

describe('finding the Debian mirror apt uses', () => {
  it('takes the URI of the deb822 stanza listing the suite, skipping security and disabled ones', () => {
    const sources = [
      'Types: deb',
      'URIs: http://disabled.example/debian',
      'Suites: bookworm',
      'Enabled: no',
      '',
      'Types: deb',
      '# http://snapshot.debian.org/archive/debian/20250520T000000Z',
      'URIs: http://mirror.example/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      '',
      'Types: deb',
      'URIs: http://security.example/debian-security',
      'Suites: bookworm-security',
    ].join('\n');
    assert.equal(mirrorFromDeb822(sources, 'bookworm'), 'http://mirror.example/debian');
    assert.equal(mirrorFromDeb822(sources, 'trixie'), undefined);
  });

  it('reads one-line sources.list entries, options included', () => {
    const list = [
      '# deb http://commented.example/debian bookworm main',
      'deb-src http://src.example/debian bookworm main',
      'deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main contrib',
    ].join('\n');
    assert.equal(mirrorFromSourcesList(list, 'bookworm'), 'http://mirror.example/debian');
  });
});
