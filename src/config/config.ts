import { z } from 'zod';

/** Thrown when the environment does not describe a usable configuration. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const intFromEnv = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);
const boolFromEnv = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const MiB = 1024 * 1024;

/**
 * Every setting GreenGrader reads from the environment, with its default.
 * Units are part of the key names so nobody has to guess them.
 */
export const configSchema = z.object({
  /** PostgreSQL connection string. */
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/greengrader'),
  /**
   * PostgreSQL ends a session idle this long inside a transaction, freeing its locks (src/db/client.ts); 0 leaves
   * the server's own setting. At most PostgreSQL's largest (2^31 - 1 ms).
   */
  DATABASE_IDLE_IN_TRANSACTION_SEC: z.coerce.number().int().nonnegative().max(2_147_483).default(60),
  /** Temporal frontend address (host:port). */
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  /** Temporal namespace. */
  TEMPORAL_NAMESPACE: z.string().default('default'),
  /** Task queue of the orchestration worker (workflows and central activities). */
  TEMPORAL_TASK_QUEUE: z.string().default('greengrader'),
  /** MQTT broker the Gradescope hook publishes to. */
  MQTT_URL: z.string().default('mqtt://127.0.0.1:1883'),
  /** The bridge's broker account: may only subscribe to MQTT_TOPIC (and read two $SYS topics). */
  MQTT_USERNAME: z.string().default('greengrader'),
  MQTT_PASSWORD: z.string().default(''),
  /** The publisher's account (Gradescope's hook, `greengrader submit`): may only publish to MQTT_TOPIC. */
  MQTT_PUBLISHER_USERNAME: z.string().default('gradescope'),
  MQTT_PUBLISHER_PASSWORD: z.string().default(''),
  /** PEM CA bundle that signed the broker's certificate, for an `mqtts://` MQTT_URL with a private CA. */
  MQTT_CA_FILE: z.string().optional(),
  /** Topic the Gradescope hook publishes zips on. */
  MQTT_TOPIC: z.string().default('submissions'),
  /** Fixed client id: the broker keeps this persistent session's queue while the bridge is down. */
  MQTT_CLIENT_ID: z.string().default('greengrader-bridge'),
  /** Messages the bridge handles at once (stored in batches, acknowledged in order); bounds its memory. */
  BRIDGE_WINDOW: z.coerce.number().int().positive().default(64),
  /** Largest zip accepted from the broker. */
  MAX_PAYLOAD_BYTES: intFromEnv(64 * MiB),
  /** Zip-bomb guards for the unzip step. */
  MAX_UNCOMPRESSED_BYTES: intFromEnv(256 * MiB),
  MAX_ZIP_ENTRIES: intFromEnv(10_000),
  /** Anonymise every submission before it is stored (names, emails, SIDs, user ids, documents; README "Privacy"). */
  ANONYMISE: boolFromEnv(true),
  /**
   * Secret key (at least 16 characters) of the HMAC that turns Gradescope user ids into stable pseudonyms;
   * or ANONYMISE_KEY_FILE, a file holding it. One of them is required while ANONYMISE is on.
   */
  ANONYMISE_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  ANONYMISE_KEY_FILE: z.string().optional(),
  /** Docker engine socket; dockerode reads DOCKER_HOST itself when set. */
  DOCKER_HOST: z.string().optional(),
  /** Image the assignment images are built FROM (Gradescope's base). */
  AUTOGRADER_BASE_IMAGE: z.string().default('gradescope/autograder-base:ubuntu-22.04'),
  /** Grader limits; Gradescope's defaults are 10 min, 768 MB, 0.5 vCPU. */
  GRADER_TIMEOUT_SEC: intFromEnv(600),
  GRADER_MEMORY_BYTES: intFromEnv(768 * MiB),
  GRADER_NANO_CPUS: intFromEnv(1_000_000_000),
  GRADER_PIDS_LIMIT: intFromEnv(256),
  GRADER_STDOUT_MAX_BYTES: intFromEnv(1 * MiB),
  GRADER_RESULTS_MAX_BYTES: intFromEnv(1 * MiB),
  /**
   * Bytes each writable folder of a Docker grader holds (/autograder, /tmp, HOME…); a full one gives ENOSPC. On
   * Kubernetes: the sizeLimit of the scratch emptyDir holding all of them (over it, the pod is evicted).
   */
  GRADER_DISK_LIMIT_BYTES: intFromEnv(1024 * MiB),
  /** Open files per grader process (the `nofile` ulimit). */
  GRADER_NOFILE_LIMIT: intFromEnv(4096),
  /**
   * OCI runtime of Docker grader containers: `auto` takes crun when the engine lists it and a probe container
   * runs under it (less CPU per container than runc), else the engine's default; or a registered runtime's name.
   */
  GRADER_RUNTIME: z.string().min(1).default('auto'),
  /** Image builds run setup.sh, which may install packages: give them longer. */
  IMAGE_BUILD_TIMEOUT_SEC: intFromEnv(1800),
  /**
   * Docker network for image builds: a bridge the node creates with inter-container traffic off, so setup.sh
   * reaches package mirrors but no other container; `none` for offline builds.
   */
  IMAGE_BUILD_NETWORK: z.string().default('greengrader-build'),
  /** setup.sh's memory (no swap), CPU and process limits during an image build. */
  IMAGE_BUILD_MEMORY_BYTES: intFromEnv(2048 * MiB),
  IMAGE_BUILD_NANO_CPUS: intFromEnv(1_000_000_000),
  IMAGE_BUILD_PIDS_LIMIT: intFromEnv(512),
  /** This node worker's identity and placement labels. */
  NODE_NAME: z.string().default(''),
  NODE_REGION: z.string().default('local'),
  NODE_ZONE: z.string().default('local'),
  /** Concurrent grading containers per node; 0 means one per CPU core. */
  NODE_MAX_CONCURRENT_RUNS: intFromEnv(0),
  /**
   * Runs a Docker node takes beyond its slots, to prepare their containers while the slots' graders run so each
   * starts the instant a slot frees; -1 means as many as its slots, 0 turns prefetching off.
   */
  NODE_PREFETCH_RUNS: z.coerce.number().int().min(-1).default(-1),
  /**
   * How long a run waits in a node's queue before the workflow gives that node up and tries another. At least 1:
   * Temporal reads a 0 s schedule-to-start timeout as none, and a dead node would then keep its run for ever.
   */
  NODE_PICKUP_TIMEOUT_SEC: z.coerce
    .number()
    .int()
    .min(1, 'must be at least 1 s (0 would mean no timeout)')
    .default(300),
  /**
   * A grading run whose node sent no heartbeat for this long (the node or its worker died) is retried, then moved
   * to another node. Nodes beat every 5 s or faster, so at least 10 s, lest a busy node be taken for dead.
   */
  NODE_HEARTBEAT_TIMEOUT_SEC: z.coerce
    .number()
    .int()
    .min(10, 'must be at least 10 s: nodes heartbeat every 5 s')
    .default(30),
  /** Priority lanes: of the runs waiting for a slot, live ones get this many slots for each regrade's weight. */
  LANE_WEIGHT_LIVE: z.coerce.number().positive().default(4),
  /** Weight of the regrade lane (re-runs, zips re-published after the deadline); above 0, so it never starves. */
  LANE_WEIGHT_REGRADE: z.coerce.number().positive().default(1),
  /**
   * A node that has not checked in for this long is not given new work; nodes check in every third of it. At
   * least 3 s: a check-in each second at most, and 0 would judge every node dead.
   */
  NODE_LIVENESS_SEC: z.coerce
    .number()
    .int()
    .min(3, 'must be at least 3 s (nodes check in every third of it)')
    .default(30),
  /** A Kubernetes region's worker (`worker --k8s-region`): the region and optional zone its pods are pinned to. */
  K8S_REGION: z.string().default(''),
  K8S_ZONE: z.string().default(''),
  /** Grader pods a Kubernetes region's worker runs at once: the region's capacity in placement. */
  K8S_MAX_CONCURRENT_RUNS: intFromEnv(4),
  /** Cluster credentials: a kubeconfig file, else inline kubeconfig YAML, else the pod's in-cluster identity. */
  KUBECONFIG_PATH: z.string().optional(),
  KUBECONFIG_INLINE: z.string().optional(),
  /** Namespace of the grader pods and their Secrets. */
  K8S_NAMESPACE: z.string().default('greengrader'),
  /** Registry prefix of the assignment images: `<prefix>/assignment-<id>:<tag>` (the Docker executor's names). */
  K8S_IMAGE_REGISTRY: z.string().default('greengrader'),
  /** Node labels holding a node's region and zone. */
  K8S_REGION_LABEL: z.string().default('topology.kubernetes.io/region'),
  K8S_ZONE_LABEL: z.string().default('topology.kubernetes.io/zone'),
  /** A pod no node of the region takes within this long fails the run on this region (another is tried). */
  K8S_UNSCHEDULABLE_TIMEOUT_SEC: intFromEnv(120),
  /**
   * Grader pods get a read-only root filesystem, writing only to a scratch emptyDir of GRADER_DISK_LIMIT_BYTES.
   * `false` for a grader that writes outside /autograder, /tmp, /var/tmp, /root, /home and /run at run time.
   */
  K8S_GRADER_READ_ONLY_ROOT: boolFromEnv(true),
  /**
   * Key of the grader pods' per-run trailer nonce (any secret text, at least 32 characters). Without it a random one
   * per process: a restarted region worker then re-runs a pod left by its predecessor instead of adopting it.
   */
  K8S_TRAILER_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Placement policy: immediate-home | spatial | temporal | spatiotemporal. */
  PLACEMENT_POLICY: z.enum(['immediate-home', 'spatial', 'temporal', 'spatiotemporal']).default('spatiotemporal'),
  /** The region runs go to without carbon awareness (the immediate-home baseline). */
  HOME_REGION: z.string().default('local'),
  /** Longest a re-grade may wait for a greener hour; 0 runs everything at once. */
  MAX_DELAY_SEC: intFromEnv(6 * 3600),
  /** Submissions made before a due date must start by due date + this grace (see src/scheduling/deadline.ts). */
  DUE_GRACE_SEC: intFromEnv(3600),
  /** A waiting run re-plans with a fresh forecast this often. */
  FORECAST_REFRESH_SEC: intFromEnv(3600),
  /** Carbon providers in the order they are tried: trace, cas; `none` runs carbon-agnostic. */
  CARBON_PROVIDERS: z.string().default('trace'),
  /** Region → carbon zone map. */
  REGIONS_FILE: z.string().optional(),
  /** Folder of `<zone>_<year>.csv` traces for the trace provider (default: ../shared/carbon-traces). */
  GG_CARBON_TRACES_DIR: z.string().optional(),
  /** The carbon-aware scheduler API (cas provider). */
  CAS_URL: z.string().optional(),
  CAS_API_VERSION: z.enum(['v2023-05', 'v2023-11', 'head']).default('head'),
  CAS_TIMEOUT_SEC: intFromEnv(20),
  /** Power model: watts per busy core (the CAS API's default) and per GB of memory limit. */
  WATTS_PER_CORE: z.coerce.number().nonnegative().default(5),
  WATTS_PER_MEMORY_GB: z.coerce.number().nonnegative().default(0.3725),
  /** The dashboard web page (no login: keep it on loopback unless a proxy checks who asks). */
  DASHBOARD_HOST: z.string().default('127.0.0.1'),
  DASHBOARD_PORT: intFromEnv(8080),
  /** Prometheus endpoint of this process; 0 turns it off. Processes sharing a host need different ports. */
  METRICS_HOST: z.string().default('127.0.0.1'),
  METRICS_PORT: intFromEnv(9464),
  /**
   * Activities the orchestrator runs at once. Its memory ceiling is this × the largest activity (storing one
   * submission holds about 5 × MAX_PAYLOAD_BYTES + MAX_UNCOMPRESSED_BYTES: see the README's "Memory ceiling").
   */
  ORCHESTRATOR_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().positive().default(8),
  /**
   * Workflow tasks the orchestrator runs at once (each holds a little state). In `up` its polls hold a quarter;
   * the rest also take first tasks handed over by eager starts of a bridge in the same process (`up`), so a burst
   * of starts needs room: the bridge keeps 32 starts in flight.
   */
  ORCHESTRATOR_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).default(40),
  ORCHESTRATOR_MAX_CACHED_WORKFLOWS: intFromEnv(1000),
  /** How often the orchestrator's schedule fails run rows whose workflow ended without recording a result. */
  RECONCILE_INTERVAL_SEC: z.coerce.number().int().positive().default(300),
  /** Infrastructure faults (engine down, lost connection) are retried this many times per node. */
  INFRA_MAX_ATTEMPTS: intFromEnv(3),
  /** Keyring of `id:base64key` lines (AES-256, first = current) sealing payloads kept at rest. */
  RETENTION_KEYS_FILE: z.string().optional(),
  /** A single `id:base64key` instead of a keyring file (not both). */
  RETENTION_KEY: z.string().optional(),
  /** Days an original (non-anonymised) zip is kept, sealed, after storing; 0 keeps none. Needs a key. */
  RAW_RETENTION_DAYS: intFromEnv(0),
  /** Days a quarantined or rejected payload is kept (sealed when a key is configured) for inspection. */
  QUARANTINE_RETENTION_DAYS: intFromEnv(14),
  /** Days a run's grader output, results.json text and per-test output are kept after it is recorded. */
  RUN_OUTPUT_RETENTION_DAYS: z.coerce.number().int().positive().default(30),
  /** How often the orchestrator's schedule purges what is past its retention. */
  PURGE_INTERVAL_SEC: z.coerce.number().int().positive().default(3600),
});

export type Config = z.infer<typeof configSchema>;

/** Parses the environment once per entry point; the result is passed down, never re-read. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as it does for most Unix tools.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
