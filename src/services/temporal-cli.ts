import { access, constants } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { findExecutable } from './find-executable.js';

/** Where scripts/bootstrap.sh installs the pinned CLI (`go install` with GOBIN). */
const repoTemporalCli = fileURLToPath(new URL('../../.tools/bin/temporal', import.meta.url));

/** The Temporal CLI to use: $TEMPORAL_CLI, else the repo's pinned build, else `temporal` on PATH. */
export async function resolveTemporalCli(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.TEMPORAL_CLI) return env.TEMPORAL_CLI;
  const pinned = await access(repoTemporalCli, constants.X_OK).then(
    () => repoTemporalCli,
    () => undefined,
  );
  const found = pinned ?? (await findExecutable('temporal'));
  if (found === undefined) {
    throw new Error('Temporal CLI not found (TEMPORAL_CLI, .tools/bin/temporal, PATH): run scripts/bootstrap.sh');
  }
  return found;
}
