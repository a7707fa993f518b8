import type Docker from 'dockerode';
import type { FileTree } from '../executor.js';
import { packTar, treeEntries } from '../tar-archive.js';

/** Thrown when an assignment's own `setup.sh` or Dockerfile step fails: rebuilding will not help. */
export class ImageBuildError extends Error {
  override name = 'ImageBuildError';
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(message);
  }
}

export interface ImageSpec {
  assignmentId: number;
  sourceHash: string;
  sourceFiles: FileTree;
  baseImage: string;
  /** `none` builds offline; setup.sh usually needs the network to install packages. */
  networkMode: string;
}

export function assignmentImageTag(assignmentId: number, sourceHash: string): string {
  return `greengrader/assignment-${assignmentId}:${sourceHash.slice(0, 16)}`;
}

/** Gradescope's image recipe: source at /autograder/source, setup.sh run once, run_autograder installed. */
function dockerfile(spec: ImageSpec): string {
  return [
    `FROM ${spec.baseImage}`,
    'COPY source /autograder/source',
    'RUN mkdir -p /autograder/results /autograder/submission \\',
    ' && cp /autograder/source/run_autograder /autograder/run_autograder \\',
    " && sed -i 's/\\r$//' /autograder/run_autograder \\",
    ' && chmod +x /autograder/run_autograder \\',
    ' && if [ -f /autograder/source/setup.sh ]; then cd /autograder/source && bash ./setup.sh; fi',
    'WORKDIR /autograder',
    '',
  ].join('\n');
}

interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

// Two runs of one assignment on one node share a single build instead of racing.
const buildsInFlight = new Map<string, Promise<void>>();

/** Builds the assignment image unless the node already has it; returns its tag and the time spent. */
export async function ensureAssignmentImage(
  docker: Docker,
  spec: ImageSpec,
  timeoutSec: number,
): Promise<{ tag: string; buildMs: number; cached: boolean }> {
  const tag = assignmentImageTag(spec.assignmentId, spec.sourceHash);
  const started = Date.now();
  if (await imageExists(docker, tag)) return { tag, buildMs: 0, cached: true };
  let build = buildsInFlight.get(tag);
  if (!build) {
    build = buildImage(docker, spec, tag, timeoutSec).finally(() => buildsInFlight.delete(tag));
    buildsInFlight.set(tag, build);
  }
  await build;
  return { tag, buildMs: Date.now() - started, cached: false };
}

async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

async function buildImage(docker: Docker, spec: ImageSpec, tag: string, timeoutSec: number): Promise<void> {
  if (!spec.sourceFiles.has('run_autograder')) {
    throw new ImageBuildError('autograder/source has no run_autograder', '');
  }
  const context = await packTar([
    { path: 'Dockerfile', bytes: Buffer.from(dockerfile(spec)) },
    ...treeEntries('source', spec.sourceFiles),
  ]);
  const stream = await docker.buildImage(context as unknown as NodeJS.ReadableStream, {
    t: tag,
    networkmode: spec.networkMode,
    forcerm: true,
    labels: {
      'greengrader.assignment': String(spec.assignmentId),
      'greengrader.source-hash': spec.sourceHash,
    },
  });
  const log: string[] = [];
  const events = await new Promise<BuildEvent[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      reject(new ImageBuildError(`image build exceeded ${timeoutSec} s`, log.join('')));
    }, timeoutSec * 1000);
    docker.modem.followProgress(
      stream,
      (error: Error | null, output: BuildEvent[]) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(output);
      },
      (event: BuildEvent) => {
        if (event.stream) log.push(event.stream);
      },
    );
  });
  const failure = events.find((event) => event.error);
  if (failure) {
    throw new ImageBuildError(failure.errorDetail?.message ?? failure.error ?? 'image build failed', log.join(''));
  }
}
