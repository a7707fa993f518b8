import { ConfigError } from '../config/config.js';
import { KeyringError } from '../submission/sealed-bytes.js';

/**
 * Thrown for a failure the operator can act on (unknown submission id, unreachable service, bad file):
 * the entry point prints its one-line message, without a stack, and exits with `exitCode`.
 */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Exit code for a command line that cannot be run as written (bad flag, missing argument, bad config). */
export const USAGE_EXIT_CODE = 2;

/** Network error codes that mean "nobody answers there", as Node reports them. */
const unreachableCodes: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** Why a connection attempt failed, in a few words, when it is a plain network failure; else null. */
export function networkFailure(error: unknown): string | null {
  // Node reports a failed dual-stack connect (e.g. to `localhost`) as an AggregateError with an empty message.
  const first = error instanceof AggregateError ? (error.errors[0] as unknown) : error;
  const code = first instanceof Error && 'code' in first && typeof first.code === 'string' ? first.code : undefined;
  if (code !== undefined && code in unreachableCodes) return unreachableCodes[code] ?? code;
  if (first instanceof Error && /timeout|timed out/i.test(first.message)) return 'timed out';
  return null;
}

/** The one line to print for any error that reaches the entry point, and the exit code to leave with. */
export function describeFailure(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ConfigError || error instanceof KeyringError) {
    return { message: error.message, exitCode: USAGE_EXIT_CODE };
  }
  const message = error instanceof Error ? error.message || error.name : String(error);
  return { message, exitCode: 1 };
}

/** `postgres://user@host:port/db` with any password masked, for messages and `up`'s address list. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
