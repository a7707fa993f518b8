import JSZip from 'jszip';

/** Every entry gets this date so the same tree always zips to the same bytes (1980 is the DOS epoch). */
const FIXED_ZIP_DATE = new Date(Date.UTC(1980, 0, 1, 0, 0, 0));

const S_IFREG = 0o100000;
const DEFAULT_FILE_MODE = 0o644;

/** How `writeZip` lays out its files. */
export interface WriteZipOptions {
  /** Unix permission bits by path; files not listed get 0o644. */
  modes?: ReadonlyMap<string, number>;
  /** Folder to put every path under, '' or ending in '/', e.g. 'gradescope_data/'. */
  rootPrefix?: string;
}

/**
 * Zips files deterministically: sorted paths, fixed dates, Unix modes, DEFLATE at a fixed level
 * and no folder entries, so equal trees give byte-equal zips (and equal hashes).
 */
export async function writeZip(
  files: ReadonlyMap<string, Uint8Array>,
  options: WriteZipOptions = {},
): Promise<Uint8Array> {
  const zip = new JSZip();
  const prefix = options.rootPrefix ?? '';
  for (const path of [...files.keys()].sort()) {
    const content = files.get(path) ?? new Uint8Array();
    zip.file(`${prefix}${path}`, content, {
      binary: true,
      date: FIXED_ZIP_DATE,
      // Auto-created folder entries would carry the current time and break determinism.
      createFolders: false,
      unixPermissions: S_IFREG | ((options.modes?.get(path) ?? DEFAULT_FILE_MODE) & 0o7777),
    });
  }
  return zip.generateAsync({
    type: 'uint8array',
    compression: 'DEFLATE',
    compressionOptions: { level: 6 },
    platform: 'UNIX',
  });
}
