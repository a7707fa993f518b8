import type { z } from 'zod';

/** Zod issues as one line, each led by its path, e.g. `users.0.id: Invalid input: expected number, …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.')}: ${issue.message}`)
    .join('; ');
}
