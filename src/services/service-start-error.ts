import { readLogTail } from './log-tail.js';

/** Thrown when a launched service exits early or does not answer in time; the message ends with its log tail. */
export class ServiceStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServiceStartError';
  }

  /** Builds the error with the last lines of `logFile` appended, since that is where the real reason usually is. */
  static async withLog(message: string, logFile: string | undefined, cause?: unknown): Promise<ServiceStartError> {
    const tail = logFile === undefined ? '' : await readLogTail(logFile);
    const body = tail === '' ? message : `${message}\n--- last lines of ${logFile} ---\n${tail}`;
    return new ServiceStartError(body, { cause });
  }
}
