import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../../src/services/free-port.js';
import { portToListenOn } from '../../../src/services/listen-port.js';
import { PortInUseError } from '../../../src/services/port-in-use.js';

describe('the port a service listens on', () => {
  let held: Server;
  let heldPort: number;
  before(async () => {
    held = createServer();
    await new Promise<void>((resolve) => held.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const address = held.address();
    assert.ok(address !== null && typeof address === 'object');
    heldPort = address.port;
  });
  after(() => new Promise<void>((resolve) => held.close(() => resolve())));

  it('replaces a chosen port that another socket took before the start', async () => {
    const offered = [heldPort];
    const port = await portToListenOn('PostgreSQL', undefined, async () => offered.shift() ?? (await freePort()));
    assert.notEqual(port, heldPort);
    assert.equal(offered.length, 0, 'the taken port was offered first');
  });

  it('refuses a given port that is taken, naming the service', async () => {
    await assert.rejects(portToListenOn('PostgreSQL', heldPort), (error: unknown) => {
      assert.ok(error instanceof PortInUseError);
      assert.match(error.message, new RegExp(`port ${heldPort} .*PostgreSQL`));
      return true;
    });
  });

  it('gives up after three taken ports', async () => {
    await assert.rejects(
      portToListenOn('PostgreSQL', undefined, () => Promise.resolve(heldPort)),
      PortInUseError,
    );
  });
});
