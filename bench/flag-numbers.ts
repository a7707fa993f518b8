// Numeric flags of the benches: parseArgs hands strings over, and a typo must not run with NaN or a default.

/** A flag's value as a positive number, or an error naming the flag. */
export function positiveNumber(name: string, text: string): number {
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`--${name} must be a positive number, got ${text}`);
  return value;
}

/** A flag's value as a positive integer, or an error naming the flag. */
export function positiveInteger(name: string, text: string): number {
  const value = positiveNumber(name, text);
  if (!Number.isInteger(value)) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return value;
}
