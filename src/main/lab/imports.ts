import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { downloadArchive, OFFICIAL_ARCHIVES, type OfficialArchiveId } from '../../data/download';
import { normalizeDatasetName, type DatasetSummary } from '../../shared/datasets';
import type { DatasetSource, ImportOptions } from '../../shared/lab-api';
import { isFinished } from '../../shared/runs';
import { failureReason } from './disk-full';
import type { LabContext } from './lab-context';
import type { RunningJob } from './supervisor';
import { quote } from './quote';
import { LOCAL_CLIENT } from './uploads';

/** Dataset imports (in a worker: decoding is pure JS), downloads of the official archives, deletion. */
export class DatasetImports {
  readonly running = new Map<string, RunningJob>();
  readonly downloads = new Map<string, AbortController>();
  /** Paths the user chose in the native dialog, by single-use id. */
  private readonly picked = new Map<string, string>();

  constructor(
    private readonly ctx: LabContext,
    private readonly pickPath?: (kind: 'file' | 'folder') => Promise<string | null>,
  ) {}

  async pick(kind: 'file' | 'folder'): Promise<{ pickId: string; name: string } | null> {
    if (!this.pickPath) throw new Error('no native file dialog in web mode: drop or choose a file to upload instead');
    const path = await this.pickPath(kind);
    if (!path) return null;
    const pickId = randomUUID();
    this.picked.set(pickId, path);
    return { pickId, name: basename(path) };
  }

  /**
   * Import what the renderer may name: an upload, or a path the user picked (once), under
   * the job id the client minted. A refused id leaves the upload and the pick as they were.
   */
  fromSource(source: DatasetSource, opts: ImportOptions, jobId: string, client: string = LOCAL_CLIENT): void {
    this.ctx.assertOpen();
    this.ctx.jobIds.claim(jobId);
    if (source.kind === 'upload') {
      const path = this.ctx.uploads.path(source.uploadId, client);
      this.run(path, opts, jobId, () => this.ctx.uploads.discard(source.uploadId));
      return;
    }
    const path = this.picked.get(source.pickId);
    if (!path) throw new Error(`no picked file ${quote(source.pickId)} (each pick can be imported once)`);
    this.picked.delete(source.pickId);
    this.run(path, opts, jobId);
  }

  /** Import a path this process names itself (the CLI): the id is minted here. */
  start(path: string, opts: ImportOptions, cleanup?: () => void): { jobId: string; done: Promise<DatasetSummary> } {
    this.ctx.assertOpen();
    const jobId = randomUUID();
    this.ctx.jobIds.claim(jobId);
    return this.run(path, opts, jobId, cleanup);
  }

  private run(path: string, opts: ImportOptions, jobId: string, cleanup?: () => void): { jobId: string; done: Promise<DatasetSummary> } {
    const { ctx } = this;
    ctx.assertOpen();
    // The CLI and tests name datasets without the LabApi's schema: the same rule here (trimmed, not empty, capped).
    if (opts.name !== undefined) opts = { ...opts, name: normalizeDatasetName(opts.name) };
    if (opts.name !== undefined) ctx.datasets.assertNameFree(opts.name);
    const datasetId = `ds-${randomUUID().slice(0, 8)}`;
    const job = ctx.supervisor.run(
      { type: 'import', jobId, sourcePath: path, destDir: ctx.datasets.dirFor(datasetId), datasetId, name: opts.name, size: opts.size, limit: opts.limit },
      { progress: (progress) => ctx.emit({ type: 'import-progress', jobId, progress }) },
    );
    this.running.set(jobId, job);
    const done = job.done.then((outcome) => {
      this.running.delete(jobId);
      cleanup?.();
      if (outcome.status === 'imported') {
        let dataset: DatasetSummary;
        try {
          dataset = ctx.datasets.add(outcome.dataset, opts.name !== undefined);
        } catch (err) {
          // Not registered (a full disk, a name taken meanwhile): the import failed, and says why.
          const error = failureReason(err);
          rmSync(ctx.datasets.dirFor(datasetId), { recursive: true, force: true });
          ctx.emit({ type: 'import-failed', jobId, error });
          throw new Error(error, { cause: err });
        }
        ctx.emit({ type: 'import-done', jobId, dataset });
        ctx.emit({ type: 'datasets-changed' });
        return dataset;
      }
      const error = outcome.status === 'failed' ? outcome.error : 'import cancelled';
      ctx.emit({ type: 'import-failed', jobId, error });
      throw new Error(error);
    });
    done.catch(() => undefined);
    return { jobId, done };
  }

  /**
   * Download an official archive into `<dataDir>/downloads` (kept: a second
   * import needs no second download), then import it under the same job id.
   */
  download(archive: OfficialArchiveId, opts: { jobId?: string; fetchImpl?: typeof fetch } = {}): { jobId: string; done: Promise<DatasetSummary> } {
    const { ctx } = this;
    ctx.assertOpen();
    const jobId = opts.jobId ?? randomUUID();
    ctx.jobIds.claim(jobId);
    const { fetchImpl } = opts;
    const abort = new AbortController();
    this.downloads.set(jobId, abort);
    const t0 = Date.now();
    const done = downloadArchive(OFFICIAL_ARCHIVES[archive], join(ctx.dataDir, 'downloads'), {
      signal: abort.signal,
      fetchImpl,
      onProgress: (p) => {
        const elapsed = Date.now() - t0;
        const eta = p.total && p.done > 0 ? ((p.total - p.done) * elapsed) / p.done / 1000 : null;
        ctx.emit({ type: 'import-progress', jobId, progress: { done: p.done, total: p.total ?? 0, etaSeconds: eta, message: p.message } });
      },
    }).then(
      (path) => {
        this.downloads.delete(jobId);
        return this.run(path, { name: archive === 'cifar10' ? 'CIFAR-10' : 'CIFAR-100' }, jobId).done;
      },
      (err: Error) => {
        this.downloads.delete(jobId);
        ctx.emit({ type: 'import-failed', jobId, error: err.message });
        throw err;
      },
    );
    done.catch(() => undefined);
    return { jobId, done };
  }

  cancel(jobId: string): void {
    const download = this.downloads.get(jobId);
    if (download) return download.abort();
    const job = this.running.get(jobId);
    if (!job) throw new Error(`no import job ${quote(jobId)} is running`);
    job.cancel();
  }

  delete(id: string): void {
    const users = this.ctx.runs.list().filter((r) => r.datasetId === id && !isFinished(r.status));
    if (users.length) throw new Error(`dataset '${id}' is in use by run ${users[0]!.id}`);
    this.ctx.datasets.delete(id);
    this.ctx.emit({ type: 'datasets-changed' });
  }
}
