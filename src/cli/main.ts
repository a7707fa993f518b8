// The `greengrader` entry point: parses the command line, runs one command, and exits with its code.
import { CommanderError } from 'commander';
import { describeFailure, USAGE_EXIT_CODE } from './errors.js';
import { createProgram } from './program.js';

async function main(argv: readonly string[]): Promise<number> {
  try {
    await createProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    // Commander already printed what was wrong with the command line (or the help that was asked for).
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
    const { message, exitCode } = describeFailure(error);
    process.stderr.write(`greengrader: ${message}\n`);
    if (process.env.GG_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
    return exitCode;
  }
}

// Explicit exit: open handles (a Temporal runtime, a lingering socket) must not keep a finished command alive.
process.exit(await main(process.argv.slice(2)));
