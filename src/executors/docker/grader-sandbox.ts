import type Docker from 'dockerode';
import type { GraderLimits } from '../executor.js';

/** Node-wide sandbox settings of the Docker executor, on top of each job's limits. */
export interface GraderSandbox {
  /** Most bytes any one writable folder of a grader holds (each is a size-capped tmpfs). */
  diskLimitBytes: number;
  /** Open files per process (`nofile`). */
  nofileLimit: number;
  /** The engine's OCI runtime for graders (chooseGraderRuntime); unset: the engine's default. */
  runtime?: string;
}

/** Where the image keeps its pristine /autograder; each run copies it into its own capped /autograder. */
export const PRISTINE_AUTOGRADER = '/opt/greengrader/autograder';

/** Folders a grader may write to; everything else is the image, read-only. HOME is /root. */
const MiB = 1024 * 1024;

const WRITABLE = ['/autograder', '/tmp', '/var/tmp', '/root', '/home', '/run'];

/**
 * The container's limits. Docker's own per-container disk quota (`StorageOpt size`) needs overlay2 on xfs with
 * pquota, which a stock host (overlay2 on ext4) lacks; so the root filesystem is read-only and every writable
 * folder is a tmpfs with `size=`. A full folder gives the grader ENOSPC and leaves the node's disk untouched.
 * tmpfs pages are charged to the container's memory cgroup, so its memory limit is the grader's memory plus the
 * disk cap: the grader still gets its full memory while its files fit, and RAM plus files never exceed the sum.
 */
export function graderHostConfig(limits: GraderLimits, sandbox: GraderSandbox): Docker.HostConfig {
  const memory = limits.memoryBytes + sandbox.diskLimitBytes;
  return {
    ...(sandbox.runtime === undefined ? {} : { Runtime: sandbox.runtime }),
    NetworkMode: 'none', // a grader never needs the network; students must not reach anything
    Memory: memory,
    MemorySwap: memory, // equal to Memory: no swap, so the limit is real and tmpfs cannot spill to disk
    NanoCpus: limits.nanoCpus,
    PidsLimit: limits.pidsLimit, // stops fork bombs
    CapDrop: ['ALL'], // root in the container keeps no kernel privileges
    SecurityOpt: ['no-new-privileges'], // setuid binaries cannot regain them
    LogConfig: { Type: 'none', Config: {} }, // we read the output ourselves, capped; no log files to fill the disk
    ReadonlyRootfs: true, // the image layer cannot grow; writes go to the capped folders below
    Tmpfs: Object.fromEntries(
      WRITABLE.map((path) => [
        path,
        `rw,exec,nosuid,nodev,size=${sandbox.diskLimitBytes},mode=${path.endsWith('tmp') ? '1777' : '755'}`,
      ]),
    ),
    Init: true, // docker-init as PID 1 reaps whatever the grader leaves behind
    Ulimits: [
      { Name: 'nofile', Soft: sandbox.nofileLimit, Hard: sandbox.nofileLimit },
      // No file outgrows the cap even where a mount were not size-limited. A MiB above it, so that a grader
      // filling a folder sees ENOSPC from the tmpfs rather than being killed by SIGXFSZ at exactly the cap.
      { Name: 'fsize', Soft: sandbox.diskLimitBytes + MiB, Hard: sandbox.diskLimitBytes + MiB },
      // No core dumps: a host whose core_pattern pipes to a helper (systemd-coredump, apport) would write a
      // crashing grader's memory to the host's disk, outside the folders' caps and the container's CPU limit.
      { Name: 'core', Soft: 0, Hard: 0 },
    ],
  };
}
