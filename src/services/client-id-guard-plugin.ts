import { access, constants } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runCommand } from './run-command.js';
import { ServiceStartError } from './service-start-error.js';

/** Builds deploy/mosquitto/client-id-guard/ into a cache outside the repo (once per source change), prints the .so. */
const buildScript = fileURLToPath(new URL('../../scripts/build-mosquitto-plugin.sh', import.meta.url));

/**
 * The Mosquitto plugin that keeps the bridge's client id for the bridge's login:
 * $GG_MOSQUITTO_CLIENT_ID_GUARD (set by scripts/with-services.ts), else whatever the build script prints.
 */
export async function resolveClientIdGuardPlugin(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const given = env.GG_MOSQUITTO_CLIENT_ID_GUARD;
  if (given) {
    await access(given, constants.R_OK).catch(() => {
      throw new ServiceStartError(`GG_MOSQUITTO_CLIENT_ID_GUARD=${given} is not a readable file`);
    });
    return given;
  }
  try {
    // gcc takes about a second on a cold cache; a warm one only hashes the source.
    const { stdout } = await runCommand('bash', [buildScript], { timeoutMs: 120_000 });
    return stdout.trim();
  } catch (error) {
    throw new ServiceStartError(
      `cannot build Mosquitto's client-id-guard plugin (run scripts/bootstrap.sh as root, or set ` +
        `GG_MOSQUITTO_CLIENT_ID_GUARD to a built client-id-guard.so): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
