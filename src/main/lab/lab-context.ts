import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineReport } from '../../shared/engine';
import type { LabEvent } from '../../shared/lab-api';
import { DatasetRegistry } from './dataset-registry';
import { ensureDiskReserve } from './disk-full';
import { openDatabase, type Db } from './db';
import { EvalStore } from './eval-store';
import { JobIds } from './job-ids';
import type { JobQueue } from './job-queue';
import type { Coordinator } from './distributed/coordinator';
import { ShardStore } from './distributed/shard-store';
import { RunStore } from './run-store';
import { WorkerSupervisor } from './supervisor';
import { UploadStore } from './uploads';
import type { WorkerLauncher } from './worker-launcher';

/** What every part of the lab host shares: the stores, the worker supervisor and the event stream. */
export class LabContext {
  readonly db: Db;
  readonly runs: RunStore;
  readonly evals: EvalStore;
  readonly datasets: DatasetRegistry;
  readonly uploads: UploadStore;
  readonly supervisor: WorkerSupervisor;
  readonly shards: ShardStore;
  /** Client-minted ids of Defend, import and download jobs, each taken once. */
  readonly jobIds = new JobIds();
  /** Set when the lab coordinates workers over Redis (ADLAB_REDIS_URL): evaluations run as shards there. */
  remote: Coordinator | null = null;
  /** Set by the host once its queue exists (the queue's launchers need the parts that need the context). */
  queue!: JobQueue;
  lastEngine: EngineReport | null = null;
  closed = false;
  private readonly listeners = new Set<(event: LabEvent) => void>();

  constructor(
    readonly dataDir: string,
    launcher: WorkerLauncher,
    nativeBinding?: string,
  ) {
    mkdirSync(dataDir, { recursive: true });
    ensureDiskReserve(dataDir);
    this.db = openDatabase(join(dataDir, 'lab.db'), { nativeBinding });
    this.runs = new RunStore(this.db);
    this.evals = new EvalStore(this.db);
    this.datasets = new DatasetRegistry(this.db, join(dataDir, 'datasets'));
    mkdirSync(this.datasets.root, { recursive: true });
    this.uploads = new UploadStore(join(dataDir, 'uploads'));
    this.supervisor = new WorkerSupervisor(launcher);
    this.shards = new ShardStore(this.db);
  }

  onEvent(listener: (event: LabEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: LabEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken listener (a closed window) must not stop the others or the run.
      }
    }
  }

  /** The worker of some job reported its engine: remember it for engineInfo and tell the windows. */
  noteEngine(report: EngineReport): void {
    this.lastEngine = report;
    this.emit({ type: 'engine', report });
  }

  assertOpen(): void {
    if (this.closed) throw new Error('the lab is shutting down');
  }
}

/** Resolve-once waiters keyed by id (runs and evaluations reaching a final status). */
export class Waiters<T> {
  private readonly waiting = new Map<string, ((value: T) => void)[]>();

  wait(id: string): Promise<T> {
    return new Promise((resolve) => {
      const list = this.waiting.get(id) ?? [];
      list.push(resolve);
      this.waiting.set(id, list);
    });
  }

  resolve(id: string, value: T): void {
    for (const resolve of this.waiting.get(id) ?? []) resolve(value);
    this.waiting.delete(id);
  }
}
