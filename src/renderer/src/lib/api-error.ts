/** Text of any thrown value, for showing to the user. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

/**
 * Whether a failed call means the lab host is unreachable rather than that it
 * refused the request; matches the messages of the lab's WebSocket client and
 * of Electron's IPC when the main process is gone.
 */
export function isConnectionError(message: string): boolean {
  return /cannot reach the lab server|connection closed|websocket|ERR_CONNECTION|object has been destroyed|no handler registered/i.test(
    message,
  );
}
