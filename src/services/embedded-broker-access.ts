// Who may do what on the embedded broker: aedes' authenticate/authorize hooks for the two logins.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AedesOptions, AuthenticateError, AuthErrorCode, Client } from 'aedes';
import { BRIDGE_SYS_TOPICS, filterWithin, topicMatches, type BrokerAccounts } from '../shared/broker-accounts.js';

// CONNACK return codes; `AuthErrorCode` is a const enum, unusable with isolatedModules.
const BAD_USERNAME_OR_PASSWORD = 4 as AuthErrorCode;
const NOT_AUTHORIZED = 5 as AuthErrorCode;

type Role = 'bridge' | 'publisher';

/** Thrown (and logged by aedes, closing the connection) when a client does what its login may not. */
class BrokerAccessDenied extends Error {
  override name = 'BrokerAccessDenied';
}

/**
 * The publisher may only publish on `accounts.topic`, payloads up to `maxPayloadBytes`; the bridge may only
 * subscribe to it (and to BRIDGE_SYS_TOPICS), and only the bridge's login may use `accounts.bridgeClientId`,
 * so a leaked publisher password cannot read submissions nor take over and wipe the bridge's queued session.
 */
export function brokerAccessRules(
  accounts: BrokerAccounts,
  maxPayloadBytes: number,
): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'> {
  if (accounts.bridge.username === accounts.publisher.username) {
    throw new BrokerAccessDenied(
      `the bridge and the publisher need different broker logins, both are "${accounts.bridge.username}"`,
    );
  }
  const logins: [Role, Buffer][] = [
    ['bridge', digest(accounts.bridge.username, accounts.bridge.password)],
    ['publisher', digest(accounts.publisher.username, accounts.publisher.password)],
  ];
  const roles = new WeakMap<Client, Role>();
  const refuse = (message: string, returnCode: AuthErrorCode): AuthenticateError =>
    Object.assign(new BrokerAccessDenied(message), { returnCode });

  return {
    authenticate: (client, username, password, done) => {
      const given = digest(username ?? '', password?.toString('utf8') ?? '');
      // Compare against every login so the time taken does not tell which one matched.
      const matched = logins.filter(([, expected]) => timingSafeEqual(given, expected)).map(([role]) => role);
      const role = matched[0];
      if (role === undefined) {
        done(refuse('bad username or password', BAD_USERNAME_OR_PASSWORD), false);
        return;
      }
      if (client.id === accounts.bridgeClientId && role !== 'bridge') {
        done(refuse(`client id ${client.id} is reserved for the bridge's login`, NOT_AUTHORIZED), false);
        return;
      }
      roles.set(client, role);
      done(null, true);
    },
    authorizePublish: (client, packet, done) => {
      if (client === null) return done(null); // the broker's own $SYS messages
      if (roles.get(client) !== 'publisher') return done(new BrokerAccessDenied(`${client.id} may not publish`));
      if (!topicMatches(accounts.topic, packet.topic)) {
        return done(new BrokerAccessDenied(`${client.id} may not publish on ${packet.topic}`));
      }
      if (packet.payload.length > maxPayloadBytes) {
        return done(
          new BrokerAccessDenied(`payload of ${packet.payload.length} bytes is over the ${maxPayloadBytes}-byte limit`),
        );
      }
      done(null);
    },
    authorizeSubscribe: (client, subscription, done) => {
      const allowed =
        client !== null &&
        roles.get(client) === 'bridge' &&
        (filterWithin(accounts.topic, subscription.topic) ||
          (BRIDGE_SYS_TOPICS as readonly string[]).includes(subscription.topic));
      // A null subscription is refused in the SUBACK (0x80) without closing the connection, as MQTT intends.
      done(null, allowed ? subscription : null);
    },
  };
}

function digest(username: string, password: string): Buffer {
  return createHash('sha256').update(`${username}\0${password}`).digest();
}
