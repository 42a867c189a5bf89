/** Characters of an offending value an error message repeats: enough to recognise it, never megabytes. */
export const QUOTE_CHARS = 60;

/** `value` in quotes for an error message, cut to its first QUOTE_CHARS characters with the full length noted. */
export function quote(value: unknown, max = QUOTE_CHARS): string {
  const text = typeof value === 'string' ? value : String(value);
  return text.length <= max ? `'${text}'` : `'${text.slice(0, max)}…' (${text.length} characters)`;
}

/** A whole message cut to `max` characters (a validator's message may embed a key or value of any size). */
export function clip(message: string, max = 400): string {
  return message.length <= max ? message : `${message.slice(0, max)}… (${message.length} characters)`;
}
