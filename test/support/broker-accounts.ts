import { randomBytes, randomUUID } from 'node:crypto';
import type { BrokerAccounts } from '../../src/shared/broker-accounts.js';

/** Fresh logins for a broker a test starts itself; the grading stack's topics live under submissions/. */
export function testBrokerAccounts(overrides: Partial<BrokerAccounts> = {}): BrokerAccounts {
  return {
    bridge: { username: 'bridge', password: randomBytes(9).toString('base64url') },
    publisher: { username: 'gradescope', password: randomBytes(9).toString('base64url') },
    topic: 'submissions/#',
    bridgeClientId: `greengrader-bridge-${randomUUID().slice(0, 8)}`,
    ...overrides,
  };
}

/** The variables that point a grading stack (or the CLI) at a broker with these logins. */
export function brokerEnvOf(url: string, accounts: BrokerAccounts): Record<string, string> {
  return {
    MQTT_URL: url,
    MQTT_USERNAME: accounts.bridge.username,
    MQTT_PASSWORD: accounts.bridge.password,
    MQTT_PUBLISHER_USERNAME: accounts.publisher.username,
    MQTT_PUBLISHER_PASSWORD: accounts.publisher.password,
  };
}
