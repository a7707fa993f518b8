import { createServer } from 'node:net';

/** Thrown when a port a launcher wants is already held by another process. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(
    readonly host: string,
    readonly port: number,
    readonly service: string,
  ) {
    super(`port ${port} on ${host} (wanted for ${service}) is already in use by another process`);
  }
}

/**
 * Throws PortInUseError unless `host:port` can be bound right now. Launchers check before spawning because a
 * server that cannot bind may exit after a readiness probe has already been answered by whoever holds the port.
 */
export async function assertPortFree(host: string, port: number, service: string): Promise<void> {
  if (await isPortFree(host, port)) return;
  throw new PortInUseError(host, port, service);
}

function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' ? resolve(false) : reject(error),
    );
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
