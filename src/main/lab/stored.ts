import type { z } from 'zod';
import { issueText } from '../../shared/schema-issue';

/**
 * A JSON column read back through its schema: what SQLite returns is data a crash, an older
 * lab or a hand edit may have written, so it is parsed, never cast. A row that does not read
 * names itself and the field, instead of travelling on as undefined.
 */
export function readStored<T>(schema: z.ZodType<T>, json: string, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new Error(`${what} in the lab database is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  throw new Error(`${what} in the lab database does not read: ${issueText(r.error)}`);
}
