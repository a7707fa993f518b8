/** Where `up` runs what it starts itself; every port is fixed so the printed addresses stay the same. */
export interface UpOptions {
  /** `--region`: the node's region (carbon zone via config/regions.json); unset means NODE_REGION or us-west. */
  region?: string;
  /** GG_DATA_DIR: state of every service `up` starts (database, Temporal's SQLite file, MQTT password). */
  dataDir: string;
  /** The embedded broker's interface: 127.0.0.1 unless Gradescope's hosts must reach it. */
  mqttHost: string;
  mqttPort: number;
  postgresPort: number;
  temporalPort: number;
  temporalUiPort: number;
}

export const DEFAULT_UP_PORTS = {
  mqttPort: 1883,
  postgresPort: 55432,
  temporalPort: 7233,
  temporalUiPort: 8233,
} as const;
