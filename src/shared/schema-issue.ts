import type { z } from 'zod';

/** A refused value's first problem as "field.path: what is wrong" ("(root)" for the value itself). */
export function issueText(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || '(root)'}: ${issue.message}`;
}
