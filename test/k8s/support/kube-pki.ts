import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCommand } from '../../../src/services/run-command.js';

/** Files of a throwaway cluster PKI, all PEM. */
export interface KubePki {
  dir: string;
  caCertFile: string;
  caKeyFile: string;
  /** The API server's serving certificate (SAN 127.0.0.1, localhost). */
  apiserverCertFile: string;
  apiserverKeyFile: string;
  /** What the API server presents to kubelets when it proxies `pods/log`. */
  kubeletClientCertFile: string;
  kubeletClientKeyFile: string;
  /** Signs and verifies ServiceAccount tokens. */
  serviceAccountKeyFile: string;
  serviceAccountPubFile: string;
}

/** A certificate and its key, as files and as PEM text. */
export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
}

export interface CertificateRequest {
  /** File name stem inside the PKI directory. */
  name: string;
  commonName: string;
  /** `IP:127.0.0.1`, `DNS:localhost`; omit for a client certificate. */
  subjectAltNames?: string[];
  usage: 'server' | 'client';
}

// P-256 keys: generating one takes a few ms, an RSA-2048 key up to a few hundred on a busy 2-core machine.
const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
// Long enough for any test run or local session; the PKI is regenerated at every start.
const validDays = '7';

/** Creates a CA, the API server's certificates and the ServiceAccount key pair with openssl. */
export async function createKubePki(dir: string): Promise<KubePki> {
  await mkdir(dir, { recursive: true });
  const caCertFile = path.join(dir, 'ca.crt');
  const caKeyFile = path.join(dir, 'ca.key');
  await openssl([
    'req',
    '-x509',
    ...ecKey,
    '-days',
    validDays,
    '-subj',
    '/CN=greengrader-kube-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    caKeyFile,
    '-out',
    caCertFile,
  ]);
  const pki = { dir, caCertFile, caKeyFile };
  const [apiserver, kubeletClient] = await Promise.all([
    issueCertificate(pki, {
      name: 'apiserver',
      commonName: 'kube-apiserver',
      subjectAltNames: ['IP:127.0.0.1', 'DNS:localhost'],
      usage: 'server',
    }),
    issueCertificate(pki, { name: 'apiserver-kubelet-client', commonName: 'kube-apiserver', usage: 'client' }),
  ]);
  const serviceAccountKeyFile = path.join(dir, 'sa.key');
  const serviceAccountPubFile = path.join(dir, 'sa.pub');
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', serviceAccountKeyFile]);
  await openssl(['ec', '-in', serviceAccountKeyFile, '-pubout', '-out', serviceAccountPubFile]);
  return {
    ...pki,
    apiserverCertFile: apiserver.certFile,
    apiserverKeyFile: apiserver.keyFile,
    kubeletClientCertFile: kubeletClient.certFile,
    kubeletClientKeyFile: kubeletClient.keyFile,
    serviceAccountKeyFile,
    serviceAccountPubFile,
  };
}

/** Issues a certificate signed by the PKI's CA, e.g. a kubelet's serving certificate. */
export async function issueCertificate(
  pki: Pick<KubePki, 'dir' | 'caCertFile' | 'caKeyFile'>,
  request: CertificateRequest,
): Promise<IssuedCertificate> {
  const keyFile = path.join(pki.dir, `${request.name}.key`);
  const csrFile = path.join(pki.dir, `${request.name}.csr`);
  const certFile = path.join(pki.dir, `${request.name}.crt`);
  const extensions = [
    `extendedKeyUsage=${request.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
    'keyUsage=critical,digitalSignature,keyEncipherment',
    ...(request.subjectAltNames?.length ? [`subjectAltName=${request.subjectAltNames.join(',')}`] : []),
  ];
  await openssl([
    'req',
    '-new',
    ...ecKey,
    '-subj',
    `/CN=${request.commonName}`,
    ...extensions.flatMap((extension) => ['-addext', extension]),
    '-keyout',
    keyFile,
    '-out',
    csrFile,
  ]);
  await openssl([
    'x509',
    '-req',
    '-in',
    csrFile,
    '-CA',
    pki.caCertFile,
    '-CAkey',
    pki.caKeyFile,
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    validDays,
    '-copy_extensions',
    'copyall',
    '-out',
    certFile,
  ]);
  const [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  return { certFile, keyFile, certPem, keyPem };
}

/** Writes a static token file for `--token-auth-file`: one user per line (token,user,uid,"group1,group2"). */
export async function writeTokenFile(
  file: string,
  users: { token: string; name: string; groups: string[] }[],
): Promise<void> {
  const lines = users.map((user) => `${user.token},${user.name},${user.name},"${user.groups.join(',')}"`);
  await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
}

function openssl(args: string[]): Promise<unknown> {
  return runCommand('openssl', args, { timeoutMs: 30_000 });
}
