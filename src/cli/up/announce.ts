import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../config/config.js';
import { writeOut } from '../output/write.js';
import type { ServiceAddress } from './start-services.js';

/**
 * Prints where everything is, how to publish, and writes the stack's settings to DATA_DIR/env so the other
 * commands (status, submit, rerun…) can reach it.
 */
export async function announce(
  config: Config,
  addresses: readonly ServiceAddress[],
  nodeName: string,
  dataDir: string,
  carbonSource: string,
): Promise<void> {
  const envFile = await writeEnvFile(dataDir, config);
  writeOut(describeAddresses(config, addresses, nodeName, envFile, carbonSource));
}

function describeAddresses(
  config: Config,
  addresses: readonly ServiceAddress[],
  nodeName: string,
  envFile: string,
  carbonSource: string,
): string {
  const rows: [string, string][] = addresses.map(({ service, where, origin }) => [
    service,
    origin === 'started' ? where : `${where} (${origin})`,
  ]);
  rows.push([
    'node worker',
    `${nodeName} (${config.NODE_REGION}/${config.NODE_ZONE}), base image ${config.AUTOGRADER_BASE_IMAGE}`,
  ]);
  rows.push(['carbon', carbonSource]);
  const width = Math.max(...rows.map(([service]) => service.length));
  const mqtt = new URL(config.MQTT_URL);
  return [
    'GreenGrader is up. Ctrl-C stops everything.',
    ...rows.map(([service, where]) => `  ${service.padEnd(width)}  ${where}`),
    '',
    'Publish a submission (what the Gradescope hook runs; this login may only publish):',
    `  mosquitto_pub -h ${mqtt.hostname} -p ${mqtt.port || 1883} -u ${config.MQTT_PUBLISHER_USERNAME} -P '${config.MQTT_PUBLISHER_PASSWORD}' -t ${config.MQTT_TOPIC} -q 1 -f gradescope_data.zip`,
    '',
    `Other greengrader commands (status, list, submit, rerun…) reach this stack with the settings in ${envFile}:`,
    `  set -a; . ${envFile}; set +a`,
  ].join('\n');
}

/** Variables the other commands need to reach this stack, written where `up` keeps its state (mode 600). */
const STACK_VARIABLES = [
  'DATABASE_URL',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'MQTT_URL',
  'MQTT_USERNAME',
  'MQTT_PASSWORD',
  'MQTT_PUBLISHER_USERNAME',
  'MQTT_PUBLISHER_PASSWORD',
  'MQTT_TOPIC',
  'ANONYMISE_KEY_FILE',
] as const;

async function writeEnvFile(dataDir: string, config: Config): Promise<string> {
  const file = path.join(dataDir, 'env');
  const lines = STACK_VARIABLES.map((name) => `${name}='${(config[name] ?? '').replaceAll("'", "'\\''")}'`);
  await writeFile(file, `# Written by \`greengrader up\`: the settings of the stack it runs.\n${lines.join('\n')}\n`, {
    mode: 0o600,
  });
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}
