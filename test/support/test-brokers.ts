import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedBroker } from '../../src/services/embedded-broker.js';
import { startMosquitto } from '../../src/services/index.js';
import type { BrokerAccounts } from '../../src/shared/broker-accounts.js';

export interface TestBrokerOptions {
  accounts: BrokerAccounts;
  maxPayloadBytes: number;
  tls?: { certFile: string; keyFile: string };
  /** Mosquitto only: its queue limit and $SYS period. */
  maxQueuedMessages?: number;
  sysIntervalSec?: number;
}

export interface TestBroker {
  url: string;
  tlsUrl?: string;
  stop(): Promise<void>;
}

/** The two brokers GreenGrader configures, each started as its launcher does, for tests that hold for both. */
export const brokerKinds: { name: string; start(options: TestBrokerOptions): Promise<TestBroker> }[] = [
  {
    name: 'Mosquitto',
    async start(options) {
      const dir = await mkdtemp(path.join(tmpdir(), 'gg-mosquitto-'));
      const broker = await startMosquitto({ dir, persistence: false, ...options });
      return {
        url: broker.url,
        ...(broker.tlsUrl === undefined ? {} : { tlsUrl: broker.tlsUrl }),
        async stop() {
          await broker.stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'the embedded broker',
    start: ({ accounts, maxPayloadBytes, tls }) =>
      startEmbeddedBroker({ accounts, maxPayloadBytes, ...(tls === undefined ? {} : { tls }) }),
  },
];
