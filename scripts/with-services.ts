/**
 * Test harness: `tsx scripts/with-services.ts -- CMD ARGS…`
 *
 * Starts what the environment does not already provide (PostgreSQL unless DATABASE_URL, Mosquitto unless
 * MQTT_URL, a Temporal dev server unless TEMPORAL_ADDRESS, the Docker engine and the base image), runs CMD with
 * DATABASE_URL, MQTT_URL, MQTT_USERNAME/MQTT_PASSWORD (the bridge's login), MQTT_PUBLISHER_USERNAME/MQTT_PUBLISHER_PASSWORD,
 * TEMPORAL_ADDRESS, TEMPORAL_CLI, GG_TEST_BASE_IMAGE and GG_MOSQUITTO_CLIENT_ID_GUARD (the built Mosquitto plugin) set,
 * stops everything it started but the machine-wide Docker engine, and exits with CMD's exit code. A `node --test`
 * command without file arguments gets every test/**\/*.test.ts appended.
 * GG_KEEP_SERVICE_DIR=1 keeps the service directory (data and logs) for a post-mortem.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CleanupStack } from '../src/app/cleanup-stack.js';
import { findTestFiles, needsTestFiles } from './lib/find-test-files.js';
import { formatStartupTable, startTestServices } from './lib/test-services.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const say = (line: string): boolean => process.stderr.write(`[with-services] ${line}\n`);

async function main(): Promise<number> {
  const separator = process.argv.indexOf('--');
  const command = process.argv.slice(separator === -1 ? 2 : separator + 1);
  const program = command[0];
  if (program === undefined) {
    say('usage: tsx scripts/with-services.ts -- CMD [ARGS…]');
    return 2;
  }
  if (needsTestFiles(command)) command.push(...(await findTestFiles(repoRoot)));

  let signalled: NodeJS.Signals | undefined;
  let forward: ((signal: NodeJS.Signals) => void) | undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (signalled !== undefined) {
        say(`second ${signal}: exiting without cleanup`);
        process.exit(128 + constants.signals[signal]);
      }
      signalled = signal;
      say(`${signal}: stopping (again to force)`);
      forward?.(signal);
    });
  }

  const cleanup = new CleanupStack((what, error) => say(`stopping ${what} failed: ${String(error)}`));
  const workDir = await mkdtemp(path.join(tmpdir(), 'gg-services-'));
  try {
    const { vars, rows } = await startTestServices(workDir, process.env, cleanup);
    say(`services ready (data and logs in ${workDir}):\n${formatStartupTable(rows)}`);
    if (signalled !== undefined) return 128 + constants.signals[signalled];

    // Its own process group, so a signal reaches every test process, and none outlives the run.
    const child = spawn(program, command.slice(1), {
      stdio: 'inherit',
      env: { ...process.env, ...vars },
      cwd: repoRoot,
      detached: true,
    });
    forward = (signal) => signalGroup(child.pid, signal);
    const exitCode = await new Promise<number>((resolve) => {
      child.once('error', (error) => {
        say(`could not run ${program}: ${error.message}`);
        resolve(127);
      });
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal])));
    });
    // A test runner interrupted mid-run can leave a hung test file behind, holding the services' ports.
    if (signalGroup(child.pid, 0)) {
      say('killing processes the command left behind');
      signalGroup(child.pid, 'SIGKILL');
    }
    return exitCode;
  } catch (error) {
    say(`failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await cleanup.runAll();
    if (process.env.GG_KEEP_SERVICE_DIR === '1') say(`kept ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
  }
}

/** Signals a whole process group; false when it no longer exists. */
function signalGroup(leaderPid: number | undefined, signal: NodeJS.Signals | 0): boolean {
  if (leaderPid === undefined) return false;
  try {
    process.kill(-leaderPid, signal);
    return true;
  } catch {
    return false;
  }
}

process.exitCode = await main();
