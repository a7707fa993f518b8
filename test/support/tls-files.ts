import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TlsFiles {
  dir: string;
  /** The CA's certificate: what a client trusts. */
  caFile: string;
  /** The broker's certificate for 127.0.0.1, signed by the CA, and its key. */
  certFile: string;
  keyFile: string;
}

/** A throwaway CA and a server certificate for 127.0.0.1 it signed, made with `openssl` in a temp dir. */
export async function generateTlsFiles(): Promise<TlsFiles> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gg-tls-'));
  const at = (name: string) => path.join(dir, name);
  // P-256 keys: generated in milliseconds, unlike RSA.
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run(
    'openssl',
    ['req', '-x509', ...newKey, '-keyout', at('ca.key'), '-out', at('ca.pem')].concat([
      '-days',
      '1',
      '-subj',
      '/CN=GreenGrader test CA',
    ]),
  );
  await run(
    'openssl',
    ['req', ...newKey, '-keyout', at('server.key'), '-out', at('server.csr')].concat(['-subj', '/CN=127.0.0.1']),
  );
  // Clients check the address against subjectAltName, not the CN.
  await writeFile(at('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await run('openssl', [
    ...['x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial'],
    ...['-out', at('server.pem'), '-days', '1', '-extfile', at('san.ext')],
  ]);
  return { dir, caFile: at('ca.pem'), certFile: at('server.pem'), keyFile: at('server.key') };
}
