import { randomBytes } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  defaultBaseImage,
  ensureBaseImage,
  resolveClientIdGuardPlugin,
  ensureDockerEngine,
  resolveTemporalCli,
  startMosquitto,
  startPostgres,
  startTemporal,
} from '../../src/services/index.js';
import Docker from 'dockerode';
import type { CleanupStack } from '../../src/app/cleanup-stack.js';
import { chooseGraderRuntime } from '../../src/executors/docker/grader-runtime.js';
import { loadConfig } from '../../src/config/config.js';

/** One line of the start-up table. */
export interface StartupRow {
  service: string;
  /** started | given (from env) | running (already) | built | present */
  status: string;
  seconds: number;
  where: string;
}

/**
 * Starts every service the tests need that `env` does not already point at, registering each stop on `cleanup`.
 * Returns the variables the test command needs and one timing row per service.
 */
export async function startTestServices(
  workDir: string,
  env: NodeJS.ProcessEnv,
  cleanup: CleanupStack,
): Promise<{ vars: Record<string, string>; rows: StartupRow[] }> {
  const vars: Record<string, string> = {};
  const rows: StartupRow[] = [];
  const timed = async (service: string, run: () => Promise<Omit<StartupRow, 'service' | 'seconds'>>): Promise<void> => {
    const startedAt = Date.now();
    const row = await run();
    rows.push({ service, seconds: (Date.now() - startedAt) / 1000, ...row });
  };

  const postgres = timed('postgres', async () => {
    if (env.DATABASE_URL) return given((vars.DATABASE_URL = env.DATABASE_URL));
    const server = await startPostgres({ dataDir: path.join(workDir, 'postgres'), fsync: false });
    cleanup.push('postgres', server.stop);
    return started((vars.DATABASE_URL = server.url));
  });

  const mosquitto = timed('mosquitto', async () => {
    // Tests that start their own Mosquitto load the same plugin instead of each running the build script.
    const clientIdGuardPlugin = await resolveClientIdGuardPlugin(env);
    vars.GG_MOSQUITTO_CLIENT_ID_GUARD = clientIdGuardPlugin;
    const logins = ['MQTT_USERNAME', 'MQTT_PASSWORD', 'MQTT_PUBLISHER_USERNAME', 'MQTT_PUBLISHER_PASSWORD'] as const;
    if (env.MQTT_URL) {
      for (const name of logins) vars[name] = env[name] ?? '';
      return given((vars.MQTT_URL = env.MQTT_URL));
    }
    // Two logins as in production: tests publish with the publisher's and bridges subscribe with the bridge's.
    // Each grading stack gets its own topic under submissions/, which the ACL covers.
    const accounts = {
      bridge: { username: 'greengrader-test', password: randomBytes(12).toString('hex') },
      publisher: { username: 'gradescope-test', password: randomBytes(12).toString('hex') },
      topic: 'submissions/#',
      bridgeClientId: 'greengrader-bridge',
    };
    const broker = await startMosquitto({
      dir: path.join(workDir, 'mosquitto'),
      accounts,
      persistence: false,
      maxPayloadBytes: loadConfig({}).MAX_PAYLOAD_BYTES,
      clientIdGuardPlugin,
    });
    cleanup.push('mosquitto', broker.stop);
    Object.assign(vars, {
      MQTT_USERNAME: accounts.bridge.username,
      MQTT_PASSWORD: accounts.bridge.password,
      MQTT_PUBLISHER_USERNAME: accounts.publisher.username,
      MQTT_PUBLISHER_PASSWORD: accounts.publisher.password,
    });
    return started((vars.MQTT_URL = broker.url));
  });

  const temporal = timed('temporal', async () => {
    const cliPath = await resolveTemporalCli(env).catch((error: unknown) => {
      if (env.TEMPORAL_ADDRESS) return undefined; // a given server needs no CLI of ours
      throw error;
    });
    if (cliPath !== undefined) vars.TEMPORAL_CLI = cliPath;
    if (env.TEMPORAL_ADDRESS) return given((vars.TEMPORAL_ADDRESS = env.TEMPORAL_ADDRESS));
    const server = await startTemporal({
      dbFile: path.join(workDir, 'temporal', 'temporal.db'),
      cliPath,
    });
    cleanup.push('temporal', server.stop);
    return started((vars.TEMPORAL_ADDRESS = server.address));
  });

  // Docker and the image are one chain: the image lives in the engine.
  const docker = (async () => {
    await timed('docker', async () => {
      const engine = await ensureDockerEngine();
      // Left running on purpose, unlike the other services: the engine is machine-wide, and another test run on
      // this machine may have found it running and be using it right now.
      const where = engine.started
        ? `dockerd pid ${String(engine.pid)}, left running, log ${String(engine.logFile)}`
        : '';
      return {
        status: engine.started ? 'started' : 'running',
        where: where || (env.DOCKER_HOST ?? '/var/run/docker.sock'),
      };
    });
    await timed('base image', async () => {
      const image = await ensureBaseImage(env.GG_TEST_BASE_IMAGE ?? defaultBaseImage);
      vars.GG_TEST_BASE_IMAGE = image.tag;
      return { status: image.built ? 'built' : 'present', where: image.tag };
    });
    await timed('grader runtime', async () => {
      // Graders in tests run under the runtime a node on this engine picks (GRADER_RUNTIME=auto), or the one given.
      const sandbox = { diskLimitBytes: 1024 * 1024, nofileLimit: 256 };
      const choice = await chooseGraderRuntime(new Docker(), env.GRADER_RUNTIME || 'auto', sandbox);
      vars.GRADER_RUNTIME = choice.runtime;
      const where = choice.fellBack ? `${choice.runtime}: ${choice.reason}` : choice.runtime;
      return { status: env.GRADER_RUNTIME ? 'given' : 'chosen', where };
    });
  })();

  const testServer = resolveTemporalTestServer(env);
  if (testServer !== undefined) vars.GG_TEMPORAL_TEST_SERVER = testServer;

  const results = await Promise.allSettled([postgres, mosquitto, temporal, docker]);
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [describe(result.reason)] : []));
  if (failures.length > 0) throw new Error(failures.join('\n\n'));
  return { vars, rows };
}

/**
 * The time-skipping test server's launcher: GG_TEMPORAL_TEST_SERVER, else the one scripts/bootstrap.sh cached at
 * its pinned version. Undefined when neither exists: only the workflow tests need it, and they say so.
 */
export function resolveTemporalTestServer(env: NodeJS.ProcessEnv): string | undefined {
  if (env.GG_TEMPORAL_TEST_SERVER) return env.GG_TEMPORAL_TEST_SERVER;
  // bootstrap.sh holds the one pin; reading it here keeps a second copy from drifting.
  const bootstrap = readFileSync(fileURLToPath(new URL('../bootstrap.sh', import.meta.url)), 'utf8');
  const version = /^TEMPORAL_TEST_SERVER_VERSION=(\S+)$/m.exec(bootstrap)?.[1];
  if (version === undefined) return undefined;
  const cache = env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  const launcher = path.join(cache, 'greengrader', 'temporal-test-server', version, 'temporal-test-server');
  try {
    accessSync(launcher, constants.X_OK);
    return launcher;
  } catch {
    return undefined;
  }
}

function describe(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

function given(where: string): Omit<StartupRow, 'service' | 'seconds'> {
  return { status: 'given', where: redact(where) };
}

function started(where: string): Omit<StartupRow, 'service' | 'seconds'> {
  return { status: 'started', where: redact(where) };
}

/** Hides passwords in URLs before they reach CI logs. */
function redact(where: string): string {
  return where.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

/** Formats the rows as an aligned table. */
export function formatStartupTable(rows: readonly StartupRow[]): string {
  const order = ['postgres', 'mosquitto', 'temporal', 'docker', 'base image'];
  const sorted = [...rows].sort((a, b) => order.indexOf(a.service) - order.indexOf(b.service));
  const lines = [
    ['service', 'status', 'seconds', 'where'],
    ...sorted.map((r) => [r.service, r.status, r.seconds.toFixed(2), r.where]),
  ];
  const widths = [0, 1, 2].map((column) => Math.max(...lines.map((line) => line[column]?.length ?? 0)));
  return lines
    .map((line) =>
      line
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
