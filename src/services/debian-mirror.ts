import { readFile } from 'node:fs/promises';

const fallbackMirror = 'http://deb.debian.org/debian';

/**
 * The Debian mirror apt on this machine uses for `suite`, so debootstrap downloads from wherever apt is
 * known to work (a proxy or a local mirror on CI). Falls back to deb.debian.org.
 */
export async function findDebianMirror(suite: string): Promise<string> {
  const deb822 = await readFile('/etc/apt/sources.list.d/debian.sources', 'utf8').catch(() => '');
  const oneLine = await readFile('/etc/apt/sources.list', 'utf8').catch(() => '');
  return mirrorFromDeb822(deb822, suite) ?? mirrorFromSourcesList(oneLine, suite) ?? fallbackMirror;
}

/** Reads a deb822 `.sources` file: stanzas of `Field: value` lines separated by blank lines. */
export function mirrorFromDeb822(text: string, suite: string): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string[]>();
    for (const line of stanza.split('\n')) {
      const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (match?.[1] !== undefined && match[2] !== undefined) {
        fields.set(match[1].toLowerCase(), match[2].split(/\s+/).filter(Boolean));
      }
    }
    if (fields.get('enabled')?.[0] === 'no') continue;
    if (!fields.get('types')?.includes('deb') || !fields.get('suites')?.includes(suite)) continue;
    const uri = fields.get('uris')?.[0];
    if (uri !== undefined) return uri;
  }
  return undefined;
}

/** Reads one-line `deb [options] URI SUITE COMPONENTS…` entries. */
export function mirrorFromSourcesList(text: string, suite: string): string | undefined {
  for (const line of text.split('\n')) {
    const words = line
      .replace(/\[[^\]]*\]/, ' ')
      .trim()
      .split(/\s+/);
    if (words[0] === 'deb' && words[2] === suite && words[1] !== undefined) return words[1];
  }
  return undefined;
}
