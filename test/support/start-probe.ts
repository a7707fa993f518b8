import type { WorkflowClientInterceptor } from '@temporalio/client';

/**
 * A client interceptor that watches workflow starts as the starter issues them: how many are in flight at once,
 * and a hook that may hold a start back (a slow server, seen from the client) before it goes to Temporal.
 */
export interface StartProbe {
  interceptor: WorkflowClientInterceptor;
  /** Starts issued so far. */
  issued(): number;
  /** The most starts that were in flight at one time. */
  maxInFlight(): number;
  /** Starts issued while no other was in flight: a starter probing one at a time issues each of its probes so. */
  issuedAlone(): number;
}

/**
 * `delay(n)` runs before the n-th start (from 1) is sent: resolve it later to make that start slow, reject it to
 * fail that start as a server's error would (the start then never reaches Temporal).
 */
export function createStartProbe(delay: (n: number) => Promise<void> = () => Promise.resolve()): StartProbe {
  let issued = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let issuedAlone = 0;
  return {
    interceptor: {
      async startWithDetails(input, next) {
        issued += 1;
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        if (inFlight === 1) issuedAlone += 1;
        try {
          await delay(issued);
          return await next(input);
        } finally {
          inFlight -= 1;
        }
      },
    },
    issued: () => issued,
    maxInFlight: () => maxInFlight,
    issuedAlone: () => issuedAlone,
  };
}
