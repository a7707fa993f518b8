// The deployment tests print the services' logs after a failure: these wrappers let after() know one happened.

export interface FailureNotes {
  /** Wraps a test or hook body: a throw from it is remembered, then passed on. */
  readonly noting: <C, R>(body: (t: C) => Promise<R>) => (t: C) => Promise<R>;
  /** Whether any wrapped body threw. */
  readonly failed: boolean;
}

export function failureNotes(): FailureNotes {
  let failed = false;
  return {
    noting: (body) => async (t) => {
      try {
        return await body(t);
      } catch (error) {
        failed = true;
        throw error;
      }
    },
    get failed() {
      return failed;
    },
  };
}
