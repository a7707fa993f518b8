import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface LogServerOptions {
  /** Serving certificate signed by the cluster CA for IP 127.0.0.1 (the API server verifies it). */
  certPem: string;
  keyPem: string;
  /** Only clients with a certificate from this CA (the API server's kubelet client certificate) are served. */
  clientCaPem: string;
  /** The log of a pod's container, or undefined when this kubelet has no such container. */
  logs: (
    namespace: string,
    pod: string,
    container: string,
    tailLines: number | undefined,
  ) => Promise<Buffer | undefined>;
}

export interface LogServer {
  port: number;
  /** Every path served, e.g. `/containerLogs/grading/gg-run-1/grader?limitBytes=…`, so tests can see the route. */
  requests: string[];
  close: () => Promise<void>;
}

/** The kubelet's `/containerLogs/{namespace}/{pod}/{container}` over mutual TLS: what `pods/log` proxies to. */
export async function startLogServer(options: LogServerOptions): Promise<LogServer> {
  const requests: string[] = [];
  const server: Server = createServer(
    {
      cert: options.certPem,
      key: options.keyPem,
      ca: options.clientCaPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'https://kubelet');
      const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      if (req.method !== 'GET' || !match) {
        res.writeHead(404).end('not found');
        return;
      }
      requests.push(req.url ?? '');
      const [, namespace = '', pod = '', container = ''] = match;
      const tail = url.searchParams.get('tailLines');
      const limit = url.searchParams.get('limitBytes');
      options.logs(namespace, pod, container, tail === null ? undefined : Number(tail)).then(
        (log) => {
          if (log === undefined) {
            res.writeHead(404).end(`container ${container} of ${namespace}/${pod} is not on this kubelet`);
            return;
          }
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(limit === null ? log : log.subarray(0, Number(limit)));
        },
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
