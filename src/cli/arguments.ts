import { InvalidArgumentError } from 'commander';

/** Gradescope's submission id: the `id` in submission_metadata.json, a positive integer. */
export function parseSubmissionId(value: string): number {
  const id = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(id) || id <= 0) {
    throw new InvalidArgumentError("expected Gradescope's numeric submission id (`id` in submission_metadata.json).");
  }
  return id;
}

/** A positive whole number, e.g. a row limit. */
export function parsePositiveInt(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number <= 0) {
    throw new InvalidArgumentError('expected a positive whole number.');
  }
  return number;
}

/** A TCP port; 0 is refused because the printed addresses must be known before anything starts. */
export function parsePort(value: string): number {
  const port = parsePositiveInt(value);
  if (port > 65_535) throw new InvalidArgumentError('expected a TCP port (1-65535).');
  return port;
}

/** An instant: an ISO-8601 date or date-time (`2024-05-01`, `2024-05-01T12:00:00Z`). */
export function parseInstant(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError('expected an ISO-8601 date such as 2024-05-01 or 2024-05-01T12:00:00Z.');
  }
  return date;
}

/** A payload's SHA-256 as GreenGrader prints it: 64 lower-case hex digits. */
export function parseSha256(value: string): string {
  const sha = value.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha)) throw new InvalidArgumentError('expected a SHA-256: 64 hex digits.');
  return sha;
}
