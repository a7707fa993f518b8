import { request } from 'node:https';

export interface KubeHttpsTarget {
  /** `https://127.0.0.1:PORT` */
  baseUrl: string;
  /** null skips verification: only for a component's /readyz behind its own self-signed certificate. */
  caCertPem: string | null;
  /** Bearer token; omit for anonymous probes such as a scheduler's /readyz. */
  token?: string;
}

/** One HTTPS request with the cluster CA and a bearer token; resolves with the status and body text. */
export function kubeHttps(
  target: KubeHttpsTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      new URL(path, target.baseUrl),
      {
        method,
        ...(target.caCertPem === null ? { rejectUnauthorized: false } : { ca: target.caCertPem }),
        headers: {
          ...(target.token === undefined ? {} : { authorization: `Bearer ${target.token}` }),
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        // Probes must not hang on a server that accepted the connection but is not serving yet.
        timeout: 5_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Creates an object; an existing one (409) counts as success. */
export async function createIfMissing(target: KubeHttpsTarget, collectionPath: string, object: unknown): Promise<void> {
  const { status, text } = await kubeHttps(target, 'POST', collectionPath, object);
  if (status !== 201 && status !== 200 && status !== 409) {
    throw new Error(`POST ${collectionPath} answered ${status}: ${text.slice(0, 500)}`);
  }
}
