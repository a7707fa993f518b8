// One throwaway Compose project over the repository's docker-compose.yml, for the compose test.
import { execFile } from 'node:child_process';
import { findExecutable } from '../../src/services/find-executable.js';
import { runCommand } from '../../src/services/run-command.js';
import { ComposeMissingError } from './compose-cli.js';

export interface ComposeProjectOptions {
  /** Unique per test run: prefixes every container, network and volume, so nothing is shared. */
  name: string;
  /** The folder of docker-compose.yml (relative build contexts and mounts resolve from here). */
  projectDir: string;
  files: string[];
  envFile: string;
}

export interface ComposeProject {
  readonly name: string;
  /** The tool and every project flag: what a script takes as its COMPOSE command (deploy/ops/compose.sh). */
  readonly command: readonly string[];
  /** Runs `docker-compose <args>` for this project; rejects with its output when it exits non-zero. */
  run(args: readonly string[], timeoutMs: number): Promise<string>;
  /** Container id of a service's (first) container; undefined when it has none. */
  containerId(service: string): Promise<string | undefined>;
}

/**
 * Compose 1 (`docker-compose`, Debian's 1.29) driven by flags alone. Only PATH, HOME and DOCKER_HOST reach it:
 * the test harness's own DATABASE_URL, MQTT_PASSWORD… would otherwise win over the values in the env file.
 */
export async function composeProject(options: ComposeProjectOptions): Promise<ComposeProject> {
  const tool = await findExecutable('docker-compose');
  if (tool === undefined) throw new ComposeMissingError();
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  if (process.env.DOCKER_HOST !== undefined) env.DOCKER_HOST = process.env.DOCKER_HOST;
  const base = [
    ...['--project-name', options.name, '--project-directory', options.projectDir],
    ...['--env-file', options.envFile],
    ...options.files.flatMap((file) => ['-f', file]),
    ...['--ansi', 'never'],
  ];
  const run = (args: readonly string[], timeoutMs: number): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(
        tool,
        [...base, ...args],
        { cwd: options.projectDir, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error === null) resolve(stdout);
          else reject(new Error(`docker-compose ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        },
      );
    });
  return {
    name: options.name,
    command: [tool, ...base],
    run,
    async containerId(service) {
      // The labels Compose puts on every container: one `docker ps` instead of a second Python start-up.
      const labels = [`com.docker.compose.project=${options.name}`, `com.docker.compose.service=${service}`];
      const { stdout } = await runCommand('docker', [
        'ps',
        '--all',
        '--quiet',
        // Whole ids: /proc's cgroup paths (bench:ingest's CPU table) name containers by them.
        '--no-trunc',
        ...labels.flatMap((l) => ['--filter', `label=${l}`]),
      ]);
      const id = stdout.trim().split('\n')[0];
      return id === '' || id === undefined ? undefined : id;
    },
  };
}
