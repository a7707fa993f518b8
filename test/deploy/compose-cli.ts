import { execFile } from 'node:child_process';
import { z } from 'zod';
import { findExecutable } from '../../src/services/find-executable.js';
import { commandSucceeds } from '../../src/services/run-command.js';

/** A bind or volume mount, as `SOURCE:TARGET[:MODE]` (Compose 1) or an object (Compose 2). */
const mountSchema = z.union([
  z.string().transform((spec) => {
    const [source, target] = spec.split(':');
    return { source: target === undefined ? undefined : source, target: target ?? source ?? '' };
  }),
  z.object({ source: z.string().optional(), target: z.string() }),
]);

/** The parts of a resolved service the deployment tests read. */
const serviceSchema = z.object({
  image: z.string().optional(),
  /** Present for services built from a Dockerfile. */
  build: z.unknown().optional(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
  /** Compose prints null for a variable named without a value. */
  environment: z.record(z.string(), z.string().nullable()).default({}),
  volumes: z.array(mountSchema).default([]),
  group_add: z.array(z.union([z.string(), z.number()])).default([]),
});

const composeConfigSchema = z.object({ services: z.record(z.string(), serviceSchema) });

export type ComposeConfig = z.infer<typeof composeConfigSchema>;

export interface ComposeRun {
  /** The command that resolved the file, e.g. `docker-compose`. */
  tool: string;
  exitCode: number;
  stderr: string;
  /** The resolved file; undefined when the tool failed. */
  config: ComposeConfig | undefined;
}

/** Thrown when neither Compose 2 (`docker compose`) nor Compose 1 (`docker-compose`) is installed. */
export class ComposeMissingError extends Error {
  override name = 'ComposeMissingError';
  constructor() {
    super(
      'neither `docker compose` nor `docker-compose` is installed: run scripts/bootstrap.sh (Debian package docker-compose)',
    );
  }
}

/**
 * Resolves a compose file with the real tool (`config`: variables substituted, extension fields merged, schema
 * checked) and returns its services. Only PATH and HOME reach the tool, so the test environment's own
 * DATABASE_URL, MQTT_PASSWORD… cannot stand in for values the env file must supply.
 */
export async function readComposeConfig(options: { cwd: string; file: string; envFile: string }): Promise<ComposeRun> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };
  const fileArgs = ['--env-file', options.envFile, '-f', options.file, 'config'];
  const compose1 = await findExecutable('docker-compose');
  if (compose1 !== undefined) {
    // Compose 1 prints YAML only; its Debian package depends on PyYAML, which turns it into JSON.
    const resolved = await run(compose1, fileArgs, { cwd: options.cwd, env });
    if (resolved.exitCode !== 0) return { tool: 'docker-compose', ...resolved, config: undefined };
    const json = await run('python3', ['-c', yamlToJson], { env, input: resolved.stdout });
    if (json.exitCode !== 0) throw new Error(`could not read docker-compose's YAML: ${json.stderr}`);
    return { tool: 'docker-compose', ...resolved, config: composeConfigSchema.parse(JSON.parse(json.stdout)) };
  }
  if (await commandSucceeds('docker', ['compose', 'version'], { env })) {
    const resolved = await run('docker', ['compose', ...fileArgs, '--format', 'json'], { cwd: options.cwd, env });
    const config = resolved.exitCode === 0 ? composeConfigSchema.parse(JSON.parse(resolved.stdout)) : undefined;
    return { tool: 'docker compose', ...resolved, config };
  }
  throw new ComposeMissingError();
}

const yamlToJson = 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)';

/** Runs a command to completion, with `input` on its stdin; a non-zero exit is returned, not thrown. */
function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env: NodeJS.ProcessEnv; input?: string },
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) resolve({ exitCode: 0, stdout, stderr });
        else if (typeof error.code === 'number') resolve({ exitCode: error.code, stdout, stderr });
        else reject(new Error(`${command} did not run to completion: ${error.message}`, { cause: error }));
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}
