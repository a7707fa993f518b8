import { ApiException } from '@kubernetes/client-node';

/** The HTTP status of a failed API call, if it got that far. */
export function apiStatus(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

export const isNotFound = (error: unknown): boolean => apiStatus(error) === 404;
export const isConflict = (error: unknown): boolean => apiStatus(error) === 409;
export const isForbidden = (error: unknown): boolean => apiStatus(error) === 403;

/** Runs a delete; an object already gone is what we wanted. */
export async function ignoreNotFound(action: Promise<unknown>): Promise<void> {
  try {
    await action;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}
