// GET with a JSON body, which the CAS API requires and Node's fetch refuses: plain node:http/https.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CarbonProviderError } from './provider.js';

export interface HttpAnswer {
  status: number;
  contentType: string;
  text: string;
}

export interface JsonGetOptions {
  /** Whole exchange, connect to last byte. */
  timeoutMs: number;
  /** Larger answers are garbage for this API (sample 2, 45 regions, is 28 kB). */
  maxResponseBytes: number;
}

/** Sends `GET url` with `body` as JSON; resolves with any status, rejects on timeout, network error or oversize. */
export function getWithJsonBody(url: string, body: unknown, options: JsonGetOptions): Promise<HttpAnswer> {
  const target = new URL(url);
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const fail = (error: CarbonProviderError) => {
      clearTimeout(timer);
      req.destroy();
      reject(error);
    };
    const req = send(
      target,
      {
        method: 'GET',
        headers: { 'content-type': 'application/json', 'content-length': payload.length, accept: 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxResponseBytes) {
            fail(
              new CarbonProviderError(
                'cas',
                'invalid-response',
                `answer exceeds ${options.maxResponseBytes} bytes`,
                true,
              ),
            );
          } else chunks.push(chunk);
        });
        res.on('error', (error) => fail(new CarbonProviderError('cas', 'network', error.message, true)));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text });
        });
      },
    );
    const timer = setTimeout(
      () => fail(new CarbonProviderError('cas', 'timeout', `no full answer within ${options.timeoutMs} ms`, true)),
      options.timeoutMs,
    );
    req.on('error', (error) => fail(new CarbonProviderError('cas', 'network', error.message, true)));
    req.end(payload);
  });
}
