import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { redactDatabaseError } from '../db/query-errors.js';

/**
 * An activity that fails on a query must not carry the query's values into Temporal: the failure's message and
 * stack are kept in the workflow's history (and shown in the Web UI) for as long as the history lives.
 */
export const redactActivityErrors: ActivityInterceptorsFactory = () => ({
  inbound: {
    async execute(input, next) {
      try {
        return await next(input);
      } catch (error) {
        throw redactDatabaseError(error);
      }
    },
  },
});
