import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../../src/config/config.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `greengrader ARGS…` as an operator would (a child process), with `env` over this process's environment. */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`greengrader ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the CLI and parses its `--json` output; fails with the CLI's stderr when it did not exit 0. */
export async function runCliJson<T>(args: readonly string[], env: Record<string, string>): Promise<T> {
  const result = await runCli([...args, '--json'], env);
  if (result.code !== 0) throw new Error(`greengrader ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** The variables that point the CLI at a test stack's services. */
export function cliEnvOf(config: Config): Record<string, string> {
  return {
    DATABASE_URL: config.DATABASE_URL,
    TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
    TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
    MQTT_URL: config.MQTT_URL,
    MQTT_USERNAME: config.MQTT_USERNAME,
    MQTT_PASSWORD: config.MQTT_PASSWORD,
    MQTT_PUBLISHER_USERNAME: config.MQTT_PUBLISHER_USERNAME,
    MQTT_PUBLISHER_PASSWORD: config.MQTT_PUBLISHER_PASSWORD,
    MQTT_TOPIC: config.MQTT_TOPIC,
    NODE_LIVENESS_SEC: String(config.NODE_LIVENESS_SEC),
  };
}
