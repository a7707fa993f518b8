import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { brokerTlsOptions } from '../../bridge/broker-tls.js';
import type { MqttClient } from 'mqtt';
import { checkPayload } from '../../bridge/payload-checks.js';
import { loadConfig, type Config } from '../../config/config.js';
import { ingestWorkflowId } from '../../shared/grading-types.js';
import { InvalidSubmissionError, readMetadata, readZipSafely } from '../../submission/index.js';
import { CliError, networkFailure } from '../errors.js';
import { writeJson, writeOut, writeProgress } from '../output/write.js';

/** A publish gives up on an unreachable broker after this long instead of hanging. */
const CONNECT_TIMEOUT_MS = 10_000;

/** `greengrader submit ZIP --json`. */
export interface SubmitOutput {
  file: string;
  sizeBytes: number;
  payloadSha256: string;
  gradescopeSubmissionId: number;
  assignmentId: number;
  /** The workflow the bridge starts for these bytes; an already-seen zip starts none (see `status`). */
  workflowId: string;
  broker: string;
  topic: string;
}

export function registerSubmitCommand(program: Command): void {
  program
    .command('submit')
    .description('publish a gradescope_data.zip to the broker at QoS 1, as the Gradescope hook does')
    .argument('<zip>', 'the gradescope_data.zip to publish')
    .option('--json', 'print the stable JSON shape of docs/cli.md')
    .action(async (file: string, options: { json?: boolean }) => {
      const config = loadConfig();
      const bytes = await readZipFile(file);
      const submission = await checkSubmissionZip(file, bytes, config);
      const payloadSha256 = createHash('sha256').update(bytes).digest('hex');
      const output: SubmitOutput = {
        file,
        sizeBytes: bytes.length,
        payloadSha256,
        ...submission,
        workflowId: ingestWorkflowId(payloadSha256),
        broker: config.MQTT_URL,
        topic: config.MQTT_TOPIC,
      };
      if (!options.json) {
        writeProgress(
          `${file}: Gradescope submission ${submission.gradescopeSubmissionId} (assignment ${submission.assignmentId}), ${bytes.length} bytes`,
        );
      }
      await publish(config, bytes);
      if (options.json) {
        writeJson(output);
        return;
      }
      writeOut(
        [
          `published to ${config.MQTT_URL} topic ${config.MQTT_TOPIC} (QoS 1, acknowledged by the broker)`,
          `sha256   ${payloadSha256}`,
          `workflow ${output.workflowId}`,
          `follow it with: greengrader status ${submission.gradescopeSubmissionId}`,
        ].join('\n'),
      );
    });
}

async function readZipFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : '';
    if (code === 'ENOENT') throw new CliError(`${file}: no such file`);
    if (code === 'EISDIR') throw new CliError(`${file}: is a directory, not a zip`);
    throw new CliError(`${file}: cannot read it (${error instanceof Error ? error.message : String(error)})`);
  }
}

/**
 * Refuses what the bridge would refuse (empty, oversized, no zip signature) and what storing would reject
 * (an unreadable or unsafe zip, missing or malformed submission_metadata.json), before anything is sent.
 */
async function checkSubmissionZip(
  file: string,
  bytes: Buffer,
  config: Config,
): Promise<{ gradescopeSubmissionId: number; assignmentId: number }> {
  const rejection = checkPayload(bytes, config.MAX_PAYLOAD_BYTES);
  if (rejection) throw new CliError(`${file} is not a submission zip: ${rejection.reason}`);
  try {
    const entries = await readZipSafely(bytes, {
      maxEntries: config.MAX_ZIP_ENTRIES,
      maxUncompressedBytes: config.MAX_UNCOMPRESSED_BYTES,
    });
    const metadata = readMetadata(entries.files);
    return { gradescopeSubmissionId: metadata.id, assignmentId: metadata.assignment.id };
  } catch (error) {
    if (error instanceof InvalidSubmissionError) {
      throw new CliError(`${file} is not a submission zip (${error.reason}): ${error.message}`, 1, { cause: error });
    }
    throw error;
  }
}

/** Publishes at QoS 1 and resolves once the broker acknowledged (PUBACK), as `mosquitto_pub -q 1` does. */
async function publish(config: Config, bytes: Buffer): Promise<void> {
  let client: MqttClient;
  const tls = await brokerTlsOptions(config.MQTT_CA_FILE);
  // Loaded on use, so the other commands do not pay for the MQTT client at start.
  const { default: mqtt } = await import('mqtt');
  try {
    client = await mqtt.connectAsync(
      config.MQTT_URL,
      {
        ...tls,
        // The publisher's login, as Gradescope's hook: the bridge's may not publish.
        username: config.MQTT_PUBLISHER_USERNAME,
        password: config.MQTT_PUBLISHER_PASSWORD,
        clean: true,
        connectTimeout: CONNECT_TIMEOUT_MS,
        reconnectPeriod: 0,
      },
      false,
    );
  } catch (error) {
    const reason = networkFailure(error) ?? (error instanceof Error ? error.message : String(error));
    throw new CliError(`cannot publish to ${config.MQTT_URL} as ${config.MQTT_PUBLISHER_USERNAME}: ${reason}`, 1, {
      cause: error,
    });
  }
  try {
    await client.publishAsync(config.MQTT_TOPIC, bytes, { qos: 1 });
  } finally {
    await client.endAsync();
  }
}
