import Docker from 'dockerode';

/** One kind of Docker engine API call: method and path with ids left out, e.g. `POST /containers/{id}/exec`. */
export type EngineCallKind = string;

/**
 * A Docker client that tallies every engine API call it makes, by kind. Every dockerode call goes through the
 * modem's `dial`, so wrapping it sees all of them, streams and long waits included.
 */
export function countingDocker(): { docker: Docker; calls: Map<EngineCallKind, number>; reset: () => void } {
  const docker = new Docker();
  const calls = new Map<EngineCallKind, number>();
  const modem = docker.modem as unknown as {
    dial(options: { method: string; path: string }, ...rest: unknown[]): unknown;
  };
  const dial = modem.dial.bind(modem);
  modem.dial = (options, ...rest) => {
    const kind = `${options.method} ${callPath(options.path)}`;
    calls.set(kind, (calls.get(kind) ?? 0) + 1);
    return dial(options, ...rest);
  };
  return { docker, calls, reset: () => calls.clear() };
}

/** The path without its query and with container, exec and image ids replaced by `{id}`. */
function callPath(path: string): string {
  return path
    .replace(/\?.*$/, '')
    .replace(/^\/(containers|exec)\/[^/]+/, '/$1/{id}')
    .replace(/^\/images\/.+\/json$/, '/images/{id}/json');
}

/** Calls of all kinds added up. */
export function totalCalls(calls: Map<EngineCallKind, number>): number {
  return [...calls.values()].reduce((sum, n) => sum + n, 0);
}
