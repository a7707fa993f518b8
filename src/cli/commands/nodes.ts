import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { withDatabase } from '../database.js';
import { formatAge, formatBytes, orNone } from '../../shared/format.js';
import { renderTable } from '../output/table.js';
import { writeJson, writeOut } from '../output/write.js';
import { listNodes, type NodeList } from '../queries/list-nodes.js';

export function registerNodesCommand(program: Command): void {
  program
    .command('nodes')
    .description('list registered worker nodes, their load and whether they are live')
    .option('--json', 'print the stable JSON shape of docs/cli.md')
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig();
      const list = await withDatabase(config, (db) => listNodes(db, config.NODE_LIVENESS_SEC));
      if (options.json) writeJson(list);
      else writeOut(renderNodes(list, Date.now()));
    });
}

function renderNodes(list: NodeList, nowMs: number): string {
  if (list.nodes.length === 0) return 'No registered nodes: start `greengrader worker --node NAME` on a Docker host.';
  const table = renderTable(list.nodes, [
    { header: 'NAME', cell: (n) => n.name },
    { header: 'LIVE', cell: (n) => (n.live ? 'yes' : 'no') },
    { header: 'REGION/ZONE', cell: (n) => `${n.region}/${n.zone}` },
    {
      header: 'RUNS',
      cell: (n) => `${n.activeRuns}/${n.maxConcurrentRuns}${n.prefetchRuns > 0 ? `+${n.prefetchRuns}` : ''}`,
      align: 'right',
    },
    { header: 'CORES', cell: (n) => String(n.cores), align: 'right' },
    { header: 'MEMORY', cell: (n) => formatBytes(n.memoryBytes), align: 'right' },
    { header: 'LAST SEEN', cell: (n) => formatAge(n.lastSeenAt, nowMs) },
    { header: 'IP', cell: (n) => orNone(n.ip) },
    { header: 'CPU', cell: (n) => n.cpuModel },
  ]);
  return `${table}\n\nLive: checked in within the last ${list.livenessSec} s (NODE_LIVENESS_SEC).`;
}
