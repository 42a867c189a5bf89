import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { EngineReport } from '../../../shared/engine';
import type { CoordinatorInfo } from '../../../shared/shards';
import { errorMessage, isConnectionError } from '../lib/api-error';
import { labApi } from './lab-handle';

export type ConnectionState = 'connecting' | 'online' | 'offline';

/** Connection to the lab host and the compute engine it reports. */
export const useStatusStore = defineStore('status', () => {
  const engine = ref<EngineReport | null>(null);
  const connection = ref<ConnectionState>('connecting');
  const connectionError = ref<string | null>(null);
  /** Set when the lab coordinates `adlab worker` processes over Redis. */
  const coordinator = ref<CoordinatorInfo | null>(null);

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

  /** Ask whether the lab is a coordinator and which workers are connected (the status bar polls it). */
  async function checkCoordinator(): Promise<void> {
    try {
      coordinator.value = await labApi().coordinatorInfo();
    } catch (error) {
      noteFailure(error);
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

  return { engine, connection, connectionError, coordinator, check, checkCoordinator, setEngine, noteFailure };
});
