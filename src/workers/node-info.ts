import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Hardware facts recorded per node, as the original's register.py took them on its command line. */
export interface NodeHardware {
  ip: string | null;
  cpuModel: string;
  clockMhz: number;
  sockets: number;
  cores: number;
  cacheBytes: number | null;
  memoryBytes: number;
}

export function detectNodeHardware(): NodeHardware {
  const cpus = os.cpus();
  const cpuinfo = readCpuinfo();
  return {
    ip: primaryIp(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    clockMhz: cpus[0]?.speed ?? 0,
    sockets: countSockets(cpuinfo),
    cores: cpus.length,
    cacheBytes: cacheBytes(cpuinfo),
    memoryBytes: os.totalmem(),
  };
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return ''; // not Linux: the fields that need it fall back
  }
}

function countSockets(cpuinfo: string): number {
  const ids = new Set([...cpuinfo.matchAll(/^physical id\s*:\s*(\d+)/gm)].map((m) => m[1]));
  return Math.max(ids.size, 1);
}

/** "cache size : 32768 KB" → bytes. */
function cacheBytes(cpuinfo: string): number | null {
  const match = /^cache size\s*:\s*(\d+)\s*KB/im.exec(cpuinfo);
  return match?.[1] ? Number(match[1]) * 1024 : null;
}

/** The first non-internal IPv4 address, like the first word of `hostname -I`. */
export function primaryIp(): string | null {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return null;
}
