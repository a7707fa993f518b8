import type { Server } from 'node:http';

/** A started HTTP server: where it listens, and how to stop it. */
export interface RunningHttpServer {
  /** Base URL, e.g. `http://127.0.0.1:9464`; the real port when 0 was asked for. */
  url: string;
  stop(): Promise<void>;
}

/** Listens on host:port (0 picks a free port) and resolves once bound; rejects when it cannot bind. */
export function listen(server: Server, host: string, port: number): Promise<RunningHttpServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error(`server on ${host}:${port} has no TCP address`));
        return;
      }
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        url: `http://${shownHost}:${address.port}`,
        stop: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            // Keep-alive connections (a browser, a scraper) would otherwise hold close() open.
            server.closeAllConnections();
          }),
      });
    });
  });
}
