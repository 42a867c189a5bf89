import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { EngineReport } from '../../../shared/engine';
import { errorMessage, isConnectionError } from '../lib/api-error';
import { labApi } from './lab-handle';

export type ConnectionState = 'connecting' | 'online' | 'offline';

/** Connection to the lab host and the compute engine it reports. */
export const useStatusStore = defineStore('status', () => {
  const engine = ref<EngineReport | null>(null);
  const connection = ref<ConnectionState>('connecting');
  const connectionError = ref<string | null>(null);

  /** Ask the lab host for its engine; doubles as the connection check. Returns true when reachable. */
  async function check(): Promise<boolean> {
    try {
      const report = await labApi().engineInfo();
      if (report) engine.value = report;
      const wasOffline = connection.value !== 'online';
      connection.value = 'online';
      connectionError.value = null;
      return wasOffline;
    } catch (error) {
      connection.value = 'offline';
      connectionError.value = errorMessage(error);
      return false;
    }
  }

  function setEngine(report: EngineReport): void {
    engine.value = report;
  }

  /** Any failed call: mark the lab host unreachable when that is why it failed. */
  function noteFailure(error: unknown): void {
    const message = errorMessage(error);
    if (isConnectionError(message)) {
      connection.value = 'offline';
      connectionError.value = message;
    }
  }

  return { engine, connection, connectionError, check, setEngine, noteFailure };
});
