import { isIP } from 'node:net';

/** The grading host's addresses and anything in hostname.txt that was not one. */
export interface SenderIps {
  /** IPv4/IPv6 addresses in file order, duplicates removed. */
  ips: string[];
  /** Tokens that were not IP addresses, ignored. */
  rejected: string[];
}

/** Parses hostname.txt, the output of `hostname -I`: addresses separated by whitespace. */
export function parseSenderIps(text: string): SenderIps {
  const tokens = text.split(/\s+/).filter((token) => token !== '');
  const ips = [...new Set(tokens.filter((token) => isIP(token) !== 0))];
  return { ips, rejected: tokens.filter((token) => isIP(token) === 0) };
}
