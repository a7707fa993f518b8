import type Docker from 'dockerode';
import type { AutograderExecution, AutograderExecutor, AutograderJob, ExecutionControl } from '../executor.js';
import { ensureAssignmentImage, ImageBuildError } from './assignment-image.js';
import { ImageGoneError, runGraderContainer } from './grader-container.js';
import type { GraderSandbox } from './grader-sandbox.js';
import { GraderSlots } from './grader-slots.js';
import type { BuildLimits } from './setup-container.js';

export interface DockerExecutorOptions {
  nodeName: string;
  baseImage: string;
  buildNetworkMode: string;
  buildTimeoutSec: number;
  buildLimits: BuildLimits;
  sandbox: GraderSandbox;
  /** Graders that may run at once (NODE_MAX_CONCURRENT_RUNS); runs beyond it prepare their container and wait. */
  graderSlots: number;
}

/** Runs graders on the local Docker engine: build (or reuse) the assignment image, then one container. */
export class DockerExecutor implements AutograderExecutor {
  readonly kind = 'docker' as const;
  private readonly slots: GraderSlots;
  /** Assignment images this node has found or built: a run of one of them asks the engine nothing about it. */
  private readonly knownImages = new Set<string>();

  constructor(
    private readonly docker: Docker,
    private readonly options: DockerExecutorOptions,
  ) {
    this.slots = new GraderSlots(options.graderSlots);
  }

  async run(job: AutograderJob, control: ExecutionControl): Promise<AutograderExecution> {
    try {
      return await this.runOnce(job, control);
    } catch (error) {
      if (!(error instanceof ImageGoneError)) throw error;
      // Removed behind the node's back since it was built or found: forget it, so this attempt builds it again.
      this.knownImages.clear();
      return await this.runOnce(job, control);
    }
  }

  private async runOnce(job: AutograderJob, control: ExecutionControl): Promise<AutograderExecution> {
    control.heartbeat('building image');
    const beat = setInterval(() => control.heartbeat('building image'), 5000);
    let image: { tag: string; buildMs: number };
    try {
      image = await ensureAssignmentImage(
        this.docker,
        {
          assignmentId: job.assignmentId,
          sourceHash: job.sourceHash,
          sourceFiles: job.sourceFiles,
          baseImage: this.options.baseImage,
          networkMode: this.options.buildNetworkMode,
          limits: this.options.buildLimits,
        },
        this.options.buildTimeoutSec,
        this.knownImages,
      );
    } catch (error) {
      if (!(error instanceof ImageBuildError)) throw error;
      // The assignment's own setup failed: a result to record, not a fault to retry.
      return {
        outcome: 'build-failed',
        exitCode: null,
        imageTag: '',
        imageBuildMs: 0,
        imageReadyAt: new Date(),
        startedAt: null,
        finishedAt: null,
        cpuTimeMs: null,
        output: `${error.message}\n${error.log}`.slice(-job.limits.outputMaxBytes),
        outputTruncated: false,
        resultsJson: null,
        resultsTruncated: false,
      };
    } finally {
      clearInterval(beat);
    }
    const imageReadyAt = new Date();
    control.heartbeat('running');
    const ran = await runGraderContainer(
      this.docker,
      image.tag,
      job,
      this.options.nodeName,
      this.options.sandbox,
      this.slots,
      control,
    );
    return { ...ran, imageTag: image.tag, imageBuildMs: image.buildMs, imageReadyAt };
  }
}
