import type Docker from 'dockerode';
import type { GraderSandbox } from './grader-sandbox.js';
import { probeRuntime } from './runtime-probe.js';

/** The runtime `auto` prefers: the C one, which costs the node less CPU per container than Go's runc. */
const PREFERRED_RUNTIME = 'crun';

/** Thrown when GRADER_RUNTIME names a runtime the engine does not have, or one no container runs under. */
export class GraderRuntimeError extends Error {
  override name = 'GraderRuntimeError';
}

/** Which OCI runtime the node's grader containers run under, and why. */
export interface GraderRuntimeChoice {
  /** The name to put in HostConfig.Runtime. */
  runtime: string;
  /** True when `auto` wanted crun and settled for the engine's default. */
  fellBack: boolean;
  reason: string;
}

/**
 * Picks the runtime for GRADER_RUNTIME (`auto` or a runtime name the engine knows). `auto` takes crun when the
 * engine lists it and a probe container runs under it, else the engine's default runtime (runc), saying why. A
 * runtime named explicitly must be registered and pass the probe, or the node does not start.
 */
export async function chooseGraderRuntime(
  docker: Docker,
  wanted: string,
  sandbox: GraderSandbox,
): Promise<GraderRuntimeChoice> {
  const info = (await docker.info()) as { Runtimes?: Record<string, unknown>; DefaultRuntime?: string };
  const registered = Object.keys(info.Runtimes ?? {});
  const engineDefault = info.DefaultRuntime ?? 'runc';
  if (wanted !== 'auto') {
    if (!registered.includes(wanted)) {
      throw new GraderRuntimeError(
        `GRADER_RUNTIME=${wanted}: the Docker engine has no runtime of that name (it has ${registered.join(', ')}); ` +
          `register it with dockerd --add-runtime ${wanted}=/path/to/${wanted}, or use GRADER_RUNTIME=auto`,
      );
    }
    await probeRuntime(docker, wanted, sandbox).catch((error: unknown) => {
      throw new GraderRuntimeError(
        `GRADER_RUNTIME=${wanted}: a probe container did not run under it: ${message(error)}`,
      );
    });
    return { runtime: wanted, fellBack: false, reason: 'GRADER_RUNTIME names it' };
  }
  if (!registered.includes(PREFERRED_RUNTIME)) {
    return {
      runtime: engineDefault,
      fellBack: true,
      reason:
        `the Docker engine has no ${PREFERRED_RUNTIME} runtime (it has ${registered.join(', ')}): install crun and ` +
        `start dockerd with --add-runtime crun=/usr/bin/crun (greengrader does so for a dockerd it starts itself)`,
    };
  }
  try {
    await probeRuntime(docker, PREFERRED_RUNTIME, sandbox);
  } catch (error) {
    return {
      runtime: engineDefault,
      fellBack: true,
      reason: `the engine lists ${PREFERRED_RUNTIME} but a probe container did not run under it: ${message(error)}`,
    };
  }
  return { runtime: PREFERRED_RUNTIME, fellBack: false, reason: 'the engine lists it and a probe container ran' };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
