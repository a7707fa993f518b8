/** A process started for local use or tests. `stop` is idempotent, so cleanup paths may call it twice. */
export interface RunningService {
  stop: () => Promise<void>;
}
