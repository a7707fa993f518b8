import { assertPortFree, PortInUseError } from '../../services/port-in-use.js';
import { CliError } from '../errors.js';
import type { UpOptions } from './up-options.js';

/** A port `up` is about to listen on, and how the operator avoids a clash on it. */
export interface WantedPort {
  host: string;
  port: number;
  service: string;
  flag: string;
  /** The variable that makes `up` use an existing server instead; absent where there is none. */
  envVar?: string;
}

/**
 * Fails at once, before anything starts, when another process holds a port `up` wants: that process is not
 * ours, and using it silently would leave `up` depending on something it cannot restart or stop.
 */
export async function checkPortsFree(wanted: readonly WantedPort[]): Promise<void> {
  for (const want of wanted) {
    try {
      await assertPortFree(want.host, want.port, want.service);
    } catch (error) {
      throw error instanceof PortInUseError ? portTakenError(want, error) : error;
    }
  }
}

/** The operator's message for a port found taken, before start or by a launcher. */
export function portTakenError(want: WantedPort, cause: PortInUseError): CliError {
  const use = want.envVar === undefined ? '' : `, or set ${want.envVar} to use that server instead of starting one`;
  return new CliError(
    `port ${want.port} on ${want.host} (${want.service}) is already in use by a process this up did not start: ` +
      `stop that process, choose another port with ${want.flag}${use}`,
    1,
    { cause },
  );
}

/** The ports of the services the environment does not name, which `up` will listen on. */
export function wantedPorts(env: Record<string, string | undefined>, options: UpOptions): WantedPort[] {
  const local = '127.0.0.1';
  return [
    ...(env.DATABASE_URL
      ? []
      : [
          {
            host: local,
            port: options.postgresPort,
            service: 'PostgreSQL',
            flag: '--postgres-port',
            envVar: 'DATABASE_URL',
          },
        ]),
    ...(env.MQTT_URL
      ? []
      : [
          {
            host: options.mqttHost,
            port: options.mqttPort,
            service: 'MQTT broker',
            flag: '--mqtt-port',
            envVar: 'MQTT_URL',
          },
        ]),
    ...(env.TEMPORAL_ADDRESS
      ? []
      : [
          {
            host: local,
            port: options.temporalPort,
            service: 'Temporal',
            flag: '--temporal-port',
            envVar: 'TEMPORAL_ADDRESS',
          },
          { host: local, port: options.temporalUiPort, service: 'Temporal Web UI', flag: '--temporal-ui-port' },
        ]),
  ];
}
