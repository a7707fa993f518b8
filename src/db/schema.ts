import { sql, type AnyColumn } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgSequence,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { executorKinds } from '../shared/executor-kind.js';
import { runOutcomes, type RunOutcome } from '../shared/grading-types.js';
import { runLanes } from '../shared/lanes.js';
import { regradeBatchStates, regradeScopes } from '../shared/regrade-types.js';
import { runStates } from '../shared/run-state.js';

/** Raw zips and anonymised zips are kept as bytes in the row that owns them. */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/**
 * A CHECK that the column holds one of `values` (or null): the database refuses what the TypeScript union would.
 * The values are our own constants, inlined because a constraint cannot take parameters.
 */
const oneOf = (name: string, column: AnyColumn, values: readonly string[]) =>
  check(name, sql`${column} in (${sql.raw(values.map((value) => `'${value}'`).join(', '))})`);

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

/** Every message the bridge accepted off the broker, byte for byte, before anything else happens. */
export const rawPayloads = pgTable(
  'raw_payloads',
  {
    sha256: text('sha256').primaryKey(),
    /**
     * The original zip: plaintext only until it is stored or quarantined; then null, or sealed (AES-256-GCM, see
     * src/submission/sealed-bytes.ts) when `bytesKeyId` is set, until `purgeAfter`.
     */
    bytes: bytea('bytes'),
    /** The retention key that sealed `bytes`; null while `bytes` is plaintext or gone. */
    bytesKeyId: text('bytes_key_id'),
    /** When the purge drops `bytes`; null while the payload is still being processed. */
    purgeAfter: timestamp('purge_after', { withTimezone: true }),
    /** When `bytes` was dropped: by storing the anonymised copy, or by the purge. */
    bytesPurgedAt: timestamp('bytes_purged_at', { withTimezone: true }),
    sizeBytes: integer('size_bytes').notNull(),
    topic: text('topic').notNull(),
    /** The bridge host's own address, as the original recorded it. */
    receiverIp: text('receiver_ip'),
    /** received → stored (parsed into `submissions`) or rejected (quarantined with a reason). */
    status: text('status', { enum: ['received', 'stored', 'rejected'] })
      .notNull()
      .default('received'),
    rejectionCode: text('rejection_code'),
    rejectionReason: text('rejection_reason'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    rejectedAt: timestamp('rejected_at', { withTimezone: true }),
    /** Null until the bridge's starter loop has started the ingest workflow: the outbox of pending starts. */
    workflowStartedAt: timestamp('workflow_started_at', { withTimezone: true }),
    /**
     * Until when one bridge's starter holds this pending row (it is starting its workflow); another claims it only
     * after that, so a crashed bridge's rows wait at most this long. Null when nobody holds it.
     */
    workflowStartLeaseUntil: timestamp('workflow_start_lease_until', { withTimezone: true }),
  },
  (t) => [
    // The starter loop scans only pending rows, oldest first; started rows drop out of the index.
    index('raw_payloads_pending_start_idx')
      .on(t.receivedAt)
      .where(sql`${t.workflowStartedAt} is null`),
    index('raw_payloads_purge_after_idx')
      .on(t.purgeAfter)
      .where(sql`${t.purgeAfter} is not null`),
  ],
);

/** Messages refused before they could be stored as a payload (oversized, not a zip): kept for an operator. */
export const rejectedMessages = pgTable(
  'rejected_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    topic: text('topic').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    /**
     * The first bytes only when the message was oversized; all of it otherwise. Sealed when `bytesKeyId` is set;
     * null once purged.
     */
    bytes: bytea('bytes'),
    bytesKeyId: text('bytes_key_id'),
    /** When the purge drops `bytes` (QUARANTINE_RETENTION_DAYS after receipt). */
    purgeAfter: timestamp('purge_after', { withTimezone: true }),
    bytesPurgedAt: timestamp('bytes_purged_at', { withTimezone: true }),
    truncated: boolean('truncated').notNull(),
    sha256: text('sha256').notNull(),
    rejectionCode: text('rejection_code').notNull(),
    rejectionReason: text('rejection_reason').notNull(),
    receivedAt: createdAt(),
  },
  (t) => [
    index('rejected_messages_purge_after_idx')
      .on(t.purgeAfter)
      .where(sql`${t.purgeAfter} is not null`),
    index('rejected_messages_sha256_idx').on(t.sha256),
    // One row per message while its bytes are kept: the broker sends a message again when its PUBACK was lost.
    // The topic by its hash: a btree entry holds at most ~2.7 KB, and a topic under a wildcard may be longer.
    uniqueIndex('rejected_messages_kept_once_idx')
      .on(t.sha256, sql`md5(${t.topic})`)
      .where(sql`${t.bytesPurgedAt} is null`),
  ],
);

/** One parsed, anonymised Gradescope submission (the original's `submissions` row). */
export const submissions = pgTable(
  'submissions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    payloadSha256: text('payload_sha256')
      .notNull()
      .references(() => rawPayloads.sha256),
    gradescopeSubmissionId: bigint('gradescope_submission_id', { mode: 'number' }).notNull(),
    gradescopeCreatedAt: timestamp('gradescope_created_at', { withTimezone: true }).notNull(),
    courseId: bigint('course_id', { mode: 'number' }).notNull(),
    assignmentId: bigint('assignment_id', { mode: 'number' }).notNull(),
    assignmentTitle: text('assignment_title').notNull(),
    assignmentReleaseDate: timestamp('assignment_release_date', { withTimezone: true }),
    assignmentDueDate: timestamp('assignment_due_date', { withTimezone: true }),
    assignmentLateDueDate: timestamp('assignment_late_due_date', { withTimezone: true }),
    groupSubmission: boolean('group_submission').notNull(),
    groupSize: integer('group_size'),
    totalPoints: text('total_points').notNull(),
    /** `{id,type,title,parent_id,weight}` of each question. */
    outline: jsonb('outline').notNull(),
    submissionMethod: text('submission_method').notNull(),
    /** The submitters, anonymised when `anonymised` is true (placeholders, as the original did). */
    studentNames: text('student_names').array().notNull(),
    studentEmails: text('student_emails').array().notNull(),
    studentSids: text('student_sids').array().notNull(),
    studentUserIds: bigint('student_user_ids', { mode: 'number' }).array().notNull(),
    /** Each student's effective release/due/late-due dates (extensions differ per student). */
    studentAssignmentDates: jsonb('student_assignment_dates').notNull(),
    senderIps: text('sender_ips').array().notNull(),
    receiverIp: text('receiver_ip'),
    sourceHash: text('source_hash').notNull(),
    anonymised: boolean('anonymised').notNull(),
    anonymisation: jsonb('anonymisation').notNull(),
    /** The zip as stored for re-runs: anonymised when `anonymised` is true. */
    zip: bytea('zip').notNull(),
    gradescopeScore: doublePrecision('gradescope_score'),
    gradescopeResults: jsonb('gradescope_results'),
    warnings: jsonb('warnings')
      .notNull()
      .default(sql`'[]'::jsonb`),
    storedAt: timestamp('stored_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('submissions_payload_sha256_key').on(t.payloadSha256),
    index('submissions_gradescope_submission_id_idx').on(t.gradescopeSubmissionId),
  ],
);

/**
 * A placement candidate, kept fresh by its worker's check-ins: a Docker worker node (the original's `workers` row)
 * or a Kubernetes region, whose worker runs graders as pods there. A region's row is named `k8s-REGION[.ZONE]` and
 * describes the region, not a machine: cpu model `kubernetes`, cores = capacity (max concurrent runs),
 * clock 0 MHz, 1 socket, memory = capacity × the grader's memory limit.
 */
export const nodes = pgTable(
  'nodes',
  {
    name: text('name').primaryKey(),
    kind: text('kind', { enum: executorKinds }).notNull().default('docker'),
    taskQueue: text('task_queue').notNull(),
    ip: text('ip'),
    cpuModel: text('cpu_model').notNull(),
    clockMhz: integer('clock_mhz').notNull(),
    sockets: integer('sockets').notNull(),
    cores: integer('cores').notNull(),
    cacheBytes: bigint('cache_bytes', { mode: 'number' }),
    memoryBytes: bigint('memory_bytes', { mode: 'number' }).notNull(),
    region: text('region').notNull(),
    zone: text('zone').notNull(),
    maxConcurrentRuns: integer('max_concurrent_runs').notNull(),
    /** Runs it takes beyond its slots: their containers are prepared and start when a slot frees (claims count both). */
    prefetchRuns: integer('prefetch_runs').notNull().default(0),
    registeredAt: timestamp('registered_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [oneOf('nodes_kind_check', t.kind, executorKinds)],
);

/** One grading run of a submission (the original's `results` row plus its journey). */
export const gradingRuns = pgTable(
  'grading_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workflowId: text('workflow_id').notNull(),
    payloadSha256: text('payload_sha256')
      .notNull()
      .references(() => rawPayloads.sha256),
    submissionId: uuid('submission_id').references(() => submissions.id),
    trigger: text('trigger', { enum: ['ingest', 'rerun'] }).notNull(),
    state: text('state', { enum: runStates }).notNull().default('queued'),
    executor: text('executor', { enum: executorKinds }),
    /** The worker (a `nodes` row) that ran it: a Docker node, or a Kubernetes region's worker. */
    nodeName: text('node_name'),
    region: text('region'),
    zone: text('zone'),
    /** Kubernetes only: the cluster node the pod ran on, and that node's region/zone labels (null on Docker). */
    executorNode: text('executor_node'),
    executorRegion: text('executor_region'),
    executorZone: text('executor_zone'),
    imageTag: text('image_tag'),
    imageBuildMs: integer('image_build_ms'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    placedAt: timestamp('placed_at', { withTimezone: true }),
    imageReadyAt: timestamp('image_ready_at', { withTimezone: true }),
    containerStartedAt: timestamp('container_started_at', { withTimezone: true }),
    containerFinishedAt: timestamp('container_finished_at', { withTimezone: true }),
    recordedAt: timestamp('recorded_at', { withTimezone: true }),
    /** How the grader run ended; null until recorded, and for a rejected payload. */
    outcome: text('outcome').$type<RunOutcome>(),
    exitCode: integer('exit_code'),
    cpuTimeMs: doublePrecision('cpu_time_ms'),
    executionTimeMs: integer('execution_time_ms'),
    turnaroundTimeMs: integer('turnaround_time_ms'),
    score: doublePrecision('score'),
    gradescopeScore: doublePrecision('gradescope_score'),
    tests: jsonb('tests'),
    leaderboard: jsonb('leaderboard'),
    visibility: text('visibility'),
    /** results.json as the grader wrote it (capped), parsed by recordResults. */
    resultsJson: text('results_json'),
    resultsTruncated: boolean('results_truncated'),
    output: text('output'),
    outputTruncated: boolean('output_truncated'),
    /** When `output`, `results_json` and each test's `output` were dropped (RUN_OUTPUT_RETENTION_DAYS). */
    outputPurgedAt: timestamp('output_purged_at', { withTimezone: true }),
    failureReason: text('failure_reason'),
    attempts: integer('attempts').notNull().default(0),
    // Carbon-aware placement: what was planned, and why.
    policy: text('policy'),
    deadlineAt: timestamp('deadline_at', { withTimezone: true }),
    plannedStartAt: timestamp('planned_start_at', { withTimezone: true }),
    plannedIntensityGCo2PerKwh: doublePrecision('planned_intensity_g_co2_per_kwh'),
    /** Carbon zone of the chosen region (from the regions file), e.g. US-CAL-CISO. */
    carbonZone: text('carbon_zone'),
    /** The last plan in full: candidates, forecast provider and attempts, notes, fallback reason. */
    plan: jsonb('plan'),
    expedited: boolean('expedited').notNull().default(false),
    /** The last plan starts after the deadline: no usable candidate had room before it (see run_reservations). */
    deadlineMissed: boolean('deadline_missed').notNull().default(false),
    // Carbon receipt of the run (see src/carbon/accounting.ts for the model).
    energyKwh: doublePrecision('energy_kwh'),
    emissionsGCo2: doublePrecision('emissions_g_co2'),
    intensityGCo2PerKwh: doublePrecision('intensity_g_co2_per_kwh'),
    /** average or marginal: never mixed within one receipt. */
    intensityBasis: text('intensity_basis'),
    intensitySource: text('intensity_source'),
    /** The same run under immediate-home: at home, starting when it arrived. */
    counterfactualEmissionsGCo2: doublePrecision('counterfactual_emissions_g_co2'),
    savingGCo2: doublePrecision('saving_g_co2'),
    carbonReceipt: jsonb('carbon_receipt'),
  },
  (t) => [
    uniqueIndex('grading_runs_workflow_id_key').on(t.workflowId),
    index('grading_runs_submission_id_idx').on(t.submissionId),
    index('grading_runs_node_state_idx').on(t.nodeName, t.state),
    oneOf('grading_runs_state_check', t.state, runStates),
    oneOf('grading_runs_executor_check', t.executor, executorKinds),
    oneOf('grading_runs_outcome_check', t.outcome, runOutcomes),
  ],
);

/**
 * A run's claim on one slot of a node: while waiting, no node (the run is queued in its lane, ordered by
 * `queueTag`); once claimed, the node and when the slot was taken; released when the run leaves the node in any
 * way. One row per run, reused when the run is queued again after a node failed it (it keeps its place).
 * Shaped as a reservation (node, starts_at, released_at) so it can grow into reservations over time windows.
 */
export const runSlotClaims = pgTable(
  'run_slot_claims',
  {
    runId: uuid('run_id')
      .primaryKey()
      .references(() => gradingRuns.id),
    /** Priority lane: live (a student is waiting) or regrade. */
    lane: text('lane', { enum: runLanes }).notNull(),
    /** Weighted-fair order across lanes (start-time fair queueing): smallest tag claims the next free slot. */
    queueTag: doublePrecision('queue_tag').notNull(),
    /** The region of the planned node: a queued run may take a slot on any live node of that region. */
    region: text('region').notNull(),
    queuedAt: timestamp('queued_at', { withTimezone: true }).notNull().defaultNow(),
    /** Set when the run was expedited while it still had a slot to claim: it goes ahead of every waiting run. */
    expeditedAt: timestamp('expedited_at', { withTimezone: true }),
    nodeName: text('node_name'),
    startsAt: timestamp('starts_at', { withTimezone: true }),
    releasedAt: timestamp('released_at', { withTimezone: true }),
  },
  (t) => [
    oneOf('run_slot_claims_lane_check', t.lane, runLanes),
    // The queue: runs waiting for a slot, by region and tag.
    index('run_slot_claims_waiting_idx')
      .on(t.region, t.queueTag)
      .where(sql`${t.nodeName} is null and ${t.releasedAt} is null`),
    // A node's occupancy: claims held.
    index('run_slot_claims_held_idx')
      .on(t.nodeName)
      .where(sql`${t.nodeName} is not null and ${t.releasedAt} is null`),
    // The lanes' last tags and the virtual clock (max tag of claimed runs).
    index('run_slot_claims_lane_tag_idx').on(t.lane, t.queueTag),
  ],
);

/**
 * A run's booked (candidate, start window): what its plan holds on the candidate's capacity over time. Replaced
 * when the run is planned again, moved to the real start when it claims its slot, deleted when it leaves the node
 * or the plan. Its buckets are counted in `capacity_buckets`.
 */
export const runReservations = pgTable(
  'run_reservations',
  {
    runId: uuid('run_id')
      .primaryKey()
      .references(() => gradingRuns.id, { onDelete: 'cascade' }),
    /** The planned node (a Docker node, or a Kubernetes region's worker). */
    candidateId: text('candidate_id').notNull(),
    startAt: timestamp('start_at', { withTimezone: true }).notNull(),
    /** The estimated duration the reservation covers. */
    durationMs: integer('duration_ms').notNull(),
    /** Capacity buckets (epoch ms / bucket length, see src/scheduling/capacity-plan.ts) it occupies, inclusive. */
    firstBucket: bigint('first_bucket', { mode: 'number' }).notNull(),
    lastBucket: bigint('last_bucket', { mode: 'number' }).notNull(),
    /** Busy time it adds to each of those buckets, ms, first bucket first (src/shared/capacity-buckets.ts). */
    bucketBusyMs: integer('bucket_busy_ms')
      .array()
      .notNull()
      .default(sql`'{}'::integer[]`),
    reservedAt: timestamp('reserved_at', { withTimezone: true }).notNull().defaultNow(),
    /** Set when the run claimed its slot: the reservation then covers the run as it really started. */
    startedAt: timestamp('started_at', { withTimezone: true }),
  },
  (t) => [index('run_reservations_candidate_idx').on(t.candidateId, t.lastBucket)],
);

/**
 * Numbers every write of a capacity bucket, so a planner that keeps the book in memory reads only the buckets
 * written since its last read (src/db/occupancy-cache.ts). The ledger's writes of one candidate are serialised by
 * its advisory lock, so their numbers rise in commit order.
 */
export const capacityBucketVersions = pgSequence('capacity_bucket_versions');

/**
 * What each (candidate, bucket) holds: the reservations touching it and their busy time in it, which capacity is
 * checked against (runs at once × bucket length). A row whose last reservation left stays, empty (`reserved` 0),
 * so a cached book learns of it by its version; it is deleted once its bucket is an hour in the past.
 */
export const capacityBuckets = pgTable(
  'capacity_buckets',
  {
    candidateId: text('candidate_id').notNull(),
    bucket: bigint('bucket', { mode: 'number' }).notNull(),
    reserved: integer('reserved').notNull(),
    /** Booked run time inside the bucket, ms (bigint: unlimited candidates are never capped). */
    busyMs: bigint('busy_ms', { mode: 'number' }).notNull().default(0),
    /**
     * The runs whose reservations touch the bucket: when they are as many as the candidate's slots, their spans
     * are read to check a free slot at each instant (src/shared/capacity-instants.ts).
     */
    runIds: uuid('run_ids')
      .array()
      .notNull()
      .default(sql`'{}'::uuid[]`),
    /**
     * Each run of `run_ids` (same order) cut to the bucket, as ms from the bucket's start: [start, end, …]. What the
     * bucket's full periods are counted from at each booking and release, without reading the reservations.
     */
    spans: integer('spans')
      .array()
      .notNull()
      .default(sql`'{}'::integer[]`),
    /**
     * The periods inside the bucket in which its runs hold every slot of the candidate (candidate_capacities), as
     * ms from the bucket's start, pairs [start, end, start, end, …] in time order; NULL when none. Kept up to date
     * by every booking and release (migrations 0014, 0015), so a plan reads these instead of the runs.
     */
    fullMs: integer('full_ms').array(),
    /** capacity_bucket_versions' number at the row's last write, set by a trigger on every insert and update (0016). */
    version: bigint('version', { mode: 'number' })
      .notNull()
      .default(sql`nextval('capacity_bucket_versions')`),
  },
  (t) => [
    primaryKey({ columns: [t.candidateId, t.bucket] }),
    // A cached book's read: the candidate's buckets written after a version, and its highest version (0018).
    index('capacity_buckets_candidate_version_idx').on(t.candidateId, t.version),
    check('capacity_buckets_reserved_check', sql`${t.reserved} >= 0`),
    check('capacity_buckets_busy_ms_check', sql`${t.busyMs} >= 0`),
  ],
);

/**
 * One row: a number that rises when a bucket with runs in it is deleted or the buckets are truncated (triggers,
 * 0018). Versions show every insert and update; a copy of the book (src/db/occupancy-cache.ts) that saw another
 * number reads its candidates whole.
 */
export const capacityBookEpoch = pgTable(
  'capacity_book_epoch',
  {
    one: boolean('one').primaryKey().default(true),
    epoch: bigint('epoch', { mode: 'number' }).notNull().default(0),
  },
  (t) => [check('capacity_book_epoch_one_row', sql`${t.one}`)],
);

/**
 * Runs at once per candidate, as the latest plan gave them (a plan writes them before it reads): what the buckets'
 * full periods are counted against. A candidate never planned with a capacity has no row and no full periods.
 */
export const candidateCapacities = pgTable(
  'candidate_capacities',
  {
    candidateId: text('candidate_id').primaryKey(),
    slots: integer('slots').notNull(),
  },
  (t) => [check('candidate_capacities_slots_check', sql`${t.slots} >= 0`)],
);

/**
 * A bulk regrade (`greengrader rerun --assignment|--course`): one `RegradeBatch` workflow. `state` is what the
 * workflow last wrote; a terminated workflow leaves it `running` (the CLI also asks Temporal).
 */
export const regradeBatches = pgTable(
  'regrade_batches',
  {
    /** The batch's key, part of every child's workflow id, e.g. `assignment-42-1764380000000`. */
    id: text('id').primaryKey(),
    /** The parent workflow, e.g. `regrade-assignment-42`: one open batch per assignment or course at a time. */
    workflowId: text('workflow_id').notNull(),
    scope: text('scope', { enum: regradeScopes }).notNull(),
    scopeId: bigint('scope_id', { mode: 'number' }).notNull(),
    state: text('state', { enum: regradeBatchStates }).notNull().default('running'),
    /** Submissions in the batch: fixed when it opens. */
    total: integer('total').notNull(),
    createdAt: createdAt(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    index('regrade_batches_created_at_idx').on(t.createdAt),
    oneOf('regrade_batches_scope_check', t.scope, regradeScopes),
    oneOf('regrade_batches_state_check', t.state, regradeBatchStates),
  ],
);

/**
 * The submissions of a batch, listed once when it opens (the latest stored copy per Gradescope submission id), so
 * every run of the parent workflow pages through the same list and each child's workflow id is known up front.
 */
export const regradeBatchItems = pgTable(
  'regrade_batch_items',
  {
    batchId: text('batch_id')
      .notNull()
      .references(() => regradeBatches.id),
    /** 1, 2, …: the order children start in, and the paging cursor. */
    position: integer('position').notNull(),
    payloadSha256: text('payload_sha256')
      .notNull()
      .references(() => rawPayloads.sha256),
    gradescopeSubmissionId: bigint('gradescope_submission_id', { mode: 'number' }).notNull(),
    /** `grade-<sha256>-regrade-<batch id>`: joins the item to its run row in `grading_runs`. */
    childWorkflowId: text('child_workflow_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.batchId, t.position] }),
    uniqueIndex('regrade_batch_items_child_workflow_id_key').on(t.childWorkflowId),
  ],
);
