// The fleet of issue 13: docker-compose.yml with deploy/fleet/docker-compose.fleet.yml (one node per region, each
// on its region's own network), plus nodes joining later the way deploy/README.md adds a node on another host.
// Test-only; every node here shares this machine's engine, where production gives each node host its own.
import { randomBytes } from 'node:crypto';
import { mkdtemp, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../../src/services/run-command.js';
import { composeServices, prepareComposeStack, type ComposeEndpoints, type ComposeStack } from './compose-stack.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Settings for a quick test; each is documented in deploy/README.md "A fleet across regions". */
const fleetSettings = {
  // Placement by carbon now: the cleanest region with room, so a burst fills region after region.
  CARBON_PROVIDERS: 'trace',
  PLACEMENT_POLICY: 'spatial',
  HOME_REGION: 'us-east',
  MAX_DELAY_SEC: '3600',
  // One grader at a time per node plus one prepared: a burst of 12 needs more than one region.
  NODE_MAX_CONCURRENT_RUNS: '1',
  NODE_PREFETCH_RUNS: '1',
  // A dead node is noticed in seconds rather than minutes (defaults 30 / 300 / 30).
  NODE_LIVENESS_SEC: '6',
  NODE_PICKUP_TIMEOUT_SEC: '10',
  NODE_HEARTBEAT_TIMEOUT_SEC: '10',
};

/** A node worker of the fleet and the region network it alone (with PostgreSQL and Temporal) is on. */
export interface FleetNode {
  /** Its name in `nodes` and on its grader containers (greengrader.node label). */
  name: string;
  region: string;
  /** The Docker network of its region. */
  network: string;
  /** Its container: a compose service's, or one `docker run` started. */
  containerId(): Promise<string>;
}

export interface FleetStack {
  compose: ComposeStack;
  /** The three nodes of the fleet file, in the order us-west, us-east, us-central. */
  nodes: FleetNode[];
  up(): Promise<ComposeEndpoints>;
  /** Adds a node as on another host: a network of its own reaching PostgreSQL and Temporal, then `docker run`. */
  joinNode(network: string, region: string): Promise<FleetNode>;
  /** Removes joined nodes, every grader container of the fleet's nodes, the compose project and the networks. */
  down(): Promise<void>;
}

const composeRegions = ['us-west', 'us-east', 'us-central'] as const;

export async function prepareFleetStack(): Promise<FleetStack> {
  // Node names unique per run: a node removes containers labelled with its name at start.
  const prefix = `fleet${randomBytes(3).toString('hex')}-`;
  const traces = await realpath(path.join(repoRoot, '..', 'shared', 'carbon-traces'));
  const compose = await prepareComposeStack({
    files: [path.join(repoRoot, 'deploy', 'fleet', 'docker-compose.fleet.yml')],
    env: { ...fleetSettings, NODE_NAME_PREFIX: prefix },
    services: {
      orchestrator: {
        environment: { GG_CARBON_TRACES_DIR: '/carbon-traces' },
        volumes: [`${traces}:/carbon-traces:ro`],
      },
    },
    // The fleet's nodes instead of the single-host one.
    start: [...composeServices.filter((service) => service !== 'node'), ...composeRegions.map((r) => `node-${r}`)],
    // One build of greengrader:0.1.0; every other service of the fleet runs that image.
    build: ['bridge'],
  });
  const project = compose.project;
  const serviceContainer = async (service: string) => {
    const id = await project.containerId(service);
    if (id === undefined) throw new Error(`${service} has no container`);
    return id;
  };
  const nodes: FleetNode[] = composeRegions.map((region) => ({
    name: `${prefix}${region}`,
    region,
    network: `${project.name}_${region}`,
    containerId: () => serviceContainer(`node-${region}`),
  }));
  const joinedNames: string[] = [];
  const createdNetworks: string[] = [];
  const workDir = await mkdtemp(path.join(tmpdir(), 'gg-fleet-'));

  return {
    compose,
    nodes,
    up: () => compose.up(),
    async joinNode(networkSuffix, region) {
      const network = `${project.name}_${networkSuffix}`;
      const name = `${prefix}${networkSuffix}`;
      await runCommand('docker', ['network', 'create', '--label', `org.greengrader.fleet=${project.name}`, network]);
      createdNetworks.push(network);
      // What a private interface between the central host and the node's host gives: these two names, no more.
      for (const service of ['postgres', 'temporal'])
        await runCommand('docker', [
          'network',
          'connect',
          '--alias',
          service,
          network,
          await serviceContainer(service),
        ]);
      const settings = await compose.settings();
      const s = (key: string) => settings.get(key) ?? '';
      const envFile = path.join(workDir, `${networkSuffix}.env`);
      const env = {
        DATABASE_URL: `postgres://${s('POSTGRES_USER')}:${s('POSTGRES_PASSWORD')}@postgres:5432/greengrader`,
        TEMPORAL_ADDRESS: 'temporal:7233',
        TEMPORAL_NAMESPACE: s('TEMPORAL_NAMESPACE'),
        NODE_REGION: region,
        NODE_ZONE: `${networkSuffix}-1`,
        AUTOGRADER_BASE_IMAGE: s('AUTOGRADER_BASE_IMAGE'),
        NODE_LIVENESS_SEC: fleetSettings.NODE_LIVENESS_SEC,
        NODE_MAX_CONCURRENT_RUNS: fleetSettings.NODE_MAX_CONCURRENT_RUNS,
        NODE_PREFETCH_RUNS: fleetSettings.NODE_PREFETCH_RUNS,
      };
      await writeFile(
        envFile,
        Object.entries(env)
          .map(([k, v]) => `${k}=${String(v)}\n`)
          .join(''),
        { mode: 0o600 },
      );
      const socketGroup = String((await stat('/var/run/docker.sock')).gid);
      const { stdout } = await runCommand('docker', [
        ...['run', '--detach', '--name', name, '--restart', 'unless-stopped'],
        ...['--label', `org.greengrader.fleet=${project.name}`, '--network', network, '--env-file', envFile],
        ...['--group-add', socketGroup, '--volume', '/var/run/docker.sock:/var/run/docker.sock'],
        ...['greengrader:0.1.0', 'worker', '--node', name],
      ]);
      const container = stdout.trim();
      joinedNames.push(name);
      return { name, region, network, containerId: () => Promise.resolve(container) };
    },
    async down() {
      try {
        // Joined nodes carry the project's label; graders (a killed node's orphans too) their node's name.
        const filters = [
          `label=org.greengrader.fleet=${project.name}`,
          ...[...nodes.map((node) => node.name), ...joinedNames].map((name) => `label=greengrader.node=${name}`),
        ];
        const ids = new Set<string>();
        for (const filter of filters) {
          const { stdout } = await runCommand('docker', ['ps', '--all', '--quiet', '--filter', filter]);
          for (const id of stdout.split('\n').filter(Boolean)) ids.add(id);
        }
        if (ids.size > 0) await runCommand('docker', ['rm', '--force', ...ids]);
      } finally {
        try {
          await compose.down();
        } finally {
          for (const network of createdNetworks) await runCommand('docker', ['network', 'rm', network]);
          await rm(workDir, { recursive: true, force: true });
        }
      }
    },
  };
}
