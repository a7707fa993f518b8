import type Docker from 'dockerode';
import type { FileTree } from '../executor.js';
import { treeEntries, packTar } from '../tar-archive.js';
import { ensureBuildNetwork } from './build-network.js';
import { PURPOSE_LABEL } from './grader-container.js';
import { PRISTINE_AUTOGRADER } from './grader-sandbox.js';
import { DEFAULT_BUILD_LIMITS, runSetupContainer, type BuildLimits } from './setup-container.js';

/** Thrown when an assignment's own `setup.sh` or image step fails: rebuilding will not help. */
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
  /** `none` builds offline; another name is a bridge network the node creates with inter-container traffic off. */
  networkMode: string;
  /** CPU, memory and process caps of setup.sh; DEFAULT_BUILD_LIMITS when absent. */
  limits?: BuildLimits;
}

/** Bumped when the image layout changes, so a node rebuilds images an older version left in its cache. */
const RECIPE = '2';
const RECIPE_LABEL = 'greengrader.recipe';

export function assignmentImageTag(assignmentId: number, sourceHash: string): string {
  return `greengrader/assignment-${assignmentId}:${sourceHash.slice(0, 16)}`;
}

/**
 * Gradescope's image recipe: source at /autograder/source, run_autograder installed, setup.sh run once as root.
 * The finished /autograder is also hard-linked (no extra space) to where the Docker executor copies it from
 * into each run's capped, writable /autograder.
 */
const SETUP_SCRIPT = [
  'set -e',
  'mkdir -p /autograder/results /autograder/submission',
  'cp /autograder/source/run_autograder /autograder/run_autograder',
  "sed -i 's/\\r$//' /autograder/run_autograder",
  'chmod +x /autograder/run_autograder',
  'if [ -f /autograder/source/setup.sh ]; then (cd /autograder/source && bash ./setup.sh); fi',
  `mkdir -p ${PRISTINE_AUTOGRADER.replace(/\/[^/]+$/, '')} && cp -al /autograder ${PRISTINE_AUTOGRADER}`,
].join('\n');

// Two runs of one assignment on one node share a single build instead of racing.
const buildsInFlight = new Map<string, Promise<void>>();

/**
 * Builds the assignment image unless the node already has it; returns its tag and the time spent. `known` holds the
 * tags this process has already found or built, so a run of a known image asks the engine nothing; the caller
 * removes a tag the engine turns out to have lost (an operator's `docker image prune`).
 */
export async function ensureAssignmentImage(
  docker: Docker,
  spec: ImageSpec,
  timeoutSec: number,
  known: Set<string> = new Set(),
): Promise<{ tag: string; buildMs: number; cached: boolean }> {
  const tag = assignmentImageTag(spec.assignmentId, spec.sourceHash);
  const started = Date.now();
  if (known.has(tag)) return { tag, buildMs: 0, cached: true };
  if (await currentImageExists(docker, tag)) {
    known.add(tag);
    return { tag, buildMs: 0, cached: true };
  }
  let build = buildsInFlight.get(tag);
  if (!build) {
    build = buildImage(docker, spec, tag, timeoutSec).finally(() => buildsInFlight.delete(tag));
    buildsInFlight.set(tag, build);
  }
  await build;
  known.add(tag);
  return { tag, buildMs: Date.now() - started, cached: false };
}

async function currentImageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    const image = await docker.getImage(tag).inspect();
    return image.Config?.Labels?.[RECIPE_LABEL] === RECIPE;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

async function buildImage(docker: Docker, spec: ImageSpec, tag: string, timeoutSec: number): Promise<void> {
  if (!spec.sourceFiles.has('run_autograder')) {
    throw new ImageBuildError('autograder/source has no run_autograder', '');
  }
  const limits = spec.limits ?? DEFAULT_BUILD_LIMITS;
  await ensureBuildNetwork(docker, spec.networkMode);
  const baseCmd = await ensureBaseImage(docker, spec.baseImage);
  const container = await docker.createContainer({
    Image: spec.baseImage,
    User: 'root',
    Cmd: ['/bin/bash', '-c', SETUP_SCRIPT],
    Labels: { [PURPOSE_LABEL]: 'image-build', 'greengrader.build': tag },
    HostConfig: {
      NetworkMode: spec.networkMode,
      Memory: limits.memoryBytes,
      MemorySwap: limits.memoryBytes, // no swap: the limit is real
      NanoCpus: limits.nanoCpus,
      PidsLimit: limits.pidsLimit, // a fork bomb in setup.sh stops here, not at the node's process table
      LogConfig: { Type: 'none', Config: {} }, // the log is read, capped, from the attached stream
    },
  });
  try {
    await container.putArchive(await packTar(treeEntries('autograder/source', spec.sourceFiles)), { path: '/' });
    const failure = await runSetupContainer(docker, container, timeoutSec, limits);
    if (failure) throw new ImageBuildError(failure.reason, failure.log);
    const [repo, version] = splitTag(tag);
    await container.commit({
      repo,
      tag: version,
      changes: [
        'WORKDIR /autograder',
        // The committed container's command was the setup script; the image keeps its base's.
        `CMD ${JSON.stringify(baseCmd)}`,
        `LABEL ${PURPOSE_LABEL}=assignment-image ${RECIPE_LABEL}=${RECIPE} greengrader.assignment=${spec.assignmentId} greengrader.source-hash=${spec.sourceHash}`,
      ],
    });
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** Pulls the base image when the node lacks it, as `docker build` would have; returns its default command. */
async function ensureBaseImage(docker: Docker, image: string): Promise<string[]> {
  const defaultCmd = async (): Promise<string[]> =>
    (await docker.getImage(image).inspect()).Config?.Cmd ?? ['/bin/bash'];
  try {
    return await defaultCmd();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
  const stream = await docker.pull(image);
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve())),
  );
  return defaultCmd();
}

function splitTag(tag: string): [string, string] {
  const colon = tag.lastIndexOf(':');
  return [tag.slice(0, colon), tag.slice(colon + 1)];
}
