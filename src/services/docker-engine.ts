import { tmpdir } from 'node:os';
import path from 'node:path';
import { findExecutable, requireExecutable } from './find-executable.js';
import { once } from './once.js';
import { commandSucceeds } from './run-command.js';
import type { RunningService } from './running-service.js';
import { spawnLogged, stopProcess } from './spawn-logged.js';
import { waitUntilReady } from './wait-until-ready.js';

export interface DockerEngineOptions {
  /** How long a started dockerd may take to answer; default 60 s. */
  timeoutMs?: number;
  /** Default: greengrader-dockerd.log in the OS temp dir. */
  logFile?: string;
  /** Default overlay2; `vfs` works where overlayfs does not (slow, copies every layer). */
  storageDriver?: string;
}

export interface DockerEngine extends RunningService {
  /** False when an engine already answered; its `stop` then leaves it alone. */
  started: boolean;
  /** The dockerd we started, if any. */
  pid: number | undefined;
  /** Its log, if we started it. */
  logFile: string | undefined;
}

/** Makes sure a Docker engine answers, starting `dockerd` in the background when none does. */
export async function ensureDockerEngine(options: DockerEngineOptions = {}): Promise<DockerEngine> {
  const docker = await requireExecutable('docker', 'docker.io');
  if (await dockerAnswers(docker)) {
    return { started: false, pid: undefined, logFile: undefined, stop: () => Promise.resolve() };
  }
  if (process.env.DOCKER_HOST) {
    throw new Error(`DOCKER_HOST=${process.env.DOCKER_HOST} does not answer; not starting a local dockerd instead`);
  }
  if (process.getuid?.() !== 0) {
    throw new Error('No Docker engine answers and only root can start dockerd: start Docker or run as root');
  }

  const dockerd = await requireExecutable('dockerd', 'docker.io');
  const logFile = options.logFile ?? path.join(tmpdir(), 'greengrader-dockerd.log');
  // Registered when installed, so that GRADER_RUNTIME=auto can run graders under crun (less CPU per container).
  const crun = await findExecutable('crun');
  const engine = spawnLogged(
    dockerd,
    [
      ...['--storage-driver', options.storageDriver ?? 'overlay2', '--pidfile', '/var/run/docker.pid'],
      ...(crun === undefined ? [] : ['--add-runtime', `crun=${crun}`]),
    ],
    { logFile },
  );
  // The engine is machine-wide, so callers may leave it running after they exit: don't let it hold our event loop.
  engine.child.unref();
  // dockerd stops running containers (10 s each by default) before exiting.
  const stop = once(async () => void (await stopProcess(engine, { graceMs: 30_000 })));
  try {
    await waitUntilReady({
      what: 'dockerd',
      probe: () => dockerAnswers(docker),
      timeoutMs: options.timeoutMs ?? 60_000,
      intervalMs: 250,
      logFile,
      exited: engine.exited,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { started: true, pid: engine.child.pid, logFile, stop };
}

/** True when the engine the docker CLI points at (DOCKER_HOST or the default socket) answers. */
function dockerAnswers(docker: string): Promise<boolean> {
  // `docker version` fails without a server, unlike `docker info` in some CLI versions.
  return commandSucceeds(docker, ['version', '--format', '{{.Server.Version}}'], { timeoutMs: 10_000 });
}
