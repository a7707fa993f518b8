// The two broker logins and what each may do: the vocabulary shared by the broker launchers (src/services/),
// `up`, the test harness and the bridge's broker watch.

/** One MQTT login. */
export interface BrokerLogin {
  username: string;
  password: string;
}

/**
 * Least privilege at the broker: the publisher (Gradescope's hook, whose password sits in every assignment
 * image) may only publish on `topic`; the bridge may only subscribe to it (plus BRIDGE_SYS_TOPICS) and is the
 * only login allowed `bridgeClientId`, so nobody else can take over or wipe its queued session.
 */
export interface BrokerAccounts {
  bridge: BrokerLogin;
  publisher: BrokerLogin;
  /** A topic or topic filter (`submissions/#` lets tests give each stack its own sub-topic). */
  topic: string;
  bridgeClientId: string;
}

/** Mosquitto's $SYS topics the bridge reads to see what the broker is and whether it drops messages. */
export const BRIDGE_SYS_TOPICS = ['$SYS/broker/version', '$SYS/broker/publish/messages/dropped'] as const;

/**
 * Whether `topic` matches the MQTT topic filter `filter` (`+` one level, `#` the rest, including the parent:
 * `a/#` matches `a`). Topics starting with `$` match no filter starting with a wildcard, as MQTT requires.
 */
export function topicMatches(filter: string, topic: string): boolean {
  const wanted = filter.split('/');
  const levels = topic.split('/');
  if (topic.startsWith('$') && (wanted[0] === '+' || wanted[0] === '#')) return false;
  for (let i = 0; i < wanted.length; i++) {
    const level = wanted[i];
    if (level === '#') return i === wanted.length - 1;
    if (i >= levels.length) return false;
    if (level !== '+' && level !== levels[i]) return false;
  }
  return wanted.length === levels.length;
}

/**
 * Whether every topic a subscription to `requested` could receive also matches `allowed`: a subscriber allowed
 * `submissions/#` may subscribe to `submissions/abc` but not to `#` or `+/abc`.
 */
export function filterWithin(allowed: string, requested: string): boolean {
  const outer = allowed.split('/');
  const inner = requested.split('/');
  for (let i = 0; i < outer.length; i++) {
    const level = outer[i];
    if (level === '#') return i === outer.length - 1;
    const asked = inner[i];
    if (asked === undefined) return false;
    if (asked === '#') return false;
    if (level === '+') continue;
    if (asked === '+' || asked !== level) return false;
  }
  return outer.length === inner.length;
}
