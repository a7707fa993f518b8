/** Variables `npm test` (scripts/with-services.ts) sets for the services it starts or was given. */
export type TestEnvName =
  | 'DATABASE_URL'
  | 'MQTT_URL'
  | 'MQTT_USERNAME'
  | 'MQTT_PASSWORD'
  | 'MQTT_PUBLISHER_USERNAME'
  | 'MQTT_PUBLISHER_PASSWORD'
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_CLI'
  | 'GG_TEST_BASE_IMAGE';

/** Thrown when a test runs outside the harness and a service variable is missing. */
export class MissingTestEnvError extends Error {
  constructor(name: string) {
    super(`${name} is not set: run the tests through \`npm test\`, which starts the services and sets it`);
    this.name = 'MissingTestEnvError';
  }
}

/** The value of a harness variable; throws MissingTestEnvError when unset or empty. */
export function requireEnv(name: TestEnvName): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new MissingTestEnvError(name);
  return value;
}

/** The harness's MQTT broker: its URL, the bridge's subscribe-only login and the hook's publish-only one. */
export function mqttTestEnv() {
  return {
    url: requireEnv('MQTT_URL'),
    bridge: { username: requireEnv('MQTT_USERNAME'), password: requireEnv('MQTT_PASSWORD') },
    publisher: { username: requireEnv('MQTT_PUBLISHER_USERNAME'), password: requireEnv('MQTT_PUBLISHER_PASSWORD') },
  };
}

/** The OCI runtime the harness chose for grader containers (GRADER_RUNTIME); unset: the engine's default. */
export function testGraderRuntime(): string | undefined {
  return process.env.GRADER_RUNTIME || undefined;
}
