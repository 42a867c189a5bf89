import type { DefendRequest } from '../../shared/defend';
import type { LabContext } from './lab-context';
import type { RunningJob } from './supervisor';
import { quote } from './quote';
import { LOCAL_CLIENT } from './uploads';

/**
 * The Defend view's jobs: one image now, beside any queued work, since a user
 * is waiting for it and it is short next to a training run.
 */
export class Defends {
  readonly running = new Map<string, RunningJob>();

  constructor(private readonly ctx: LabContext) {}

  /** Start a job under the id the client minted (taken before anything is read or consumed); an uploaded image must be `client`'s. */
  start(request: DefendRequest, jobId: string, client: string = LOCAL_CLIENT): void {
    const { ctx } = this;
    ctx.assertOpen();
    ctx.jobIds.claim(jobId);
    const run = ctx.runs.get(request.runId);
    const checkpoint = ctx.runs.checkpoints(run.id).find((c) => c.kind === request.checkpoint);
    if (!checkpoint) throw new Error(`run ${run.id} has no '${request.checkpoint}' checkpoint yet`);
    const imagePath = request.image.kind === 'upload' ? ctx.uploads.path(request.image.uploadId, client) : undefined;
    if (request.image.kind === 'dataset') ctx.datasets.get(request.image.datasetId);
    const job = ctx.supervisor.run(
      {
        type: 'defend',
        jobId,
        request,
        train: run.config,
        checkpointPath: checkpoint.path,
        datasetDir: ctx.datasets.dirFor(request.image.kind === 'dataset' ? request.image.datasetId : run.config.datasetId),
        imagePath,
      },
      {
        engine: (report) => ctx.noteEngine(report),
        progress: (progress) => ctx.emit({ type: 'defend-progress', jobId, progress }),
        diagnostic: (warning) => ctx.emit({ type: 'defend-warning', jobId, warning }),
      },
    );
    this.running.set(jobId, job);
    void job.done.then((outcome) => {
      this.running.delete(jobId);
      if (request.image.kind === 'upload') ctx.uploads.discard(request.image.uploadId);
      if (outcome.status === 'defended') ctx.emit({ type: 'defend-done', jobId, result: outcome.result });
      else ctx.emit({ type: 'defend-failed', jobId, error: outcome.status === 'failed' ? outcome.error : `defend job ${outcome.status}` });
    });
  }

  cancel(jobId: string): void {
    const job = this.running.get(jobId);
    if (!job) throw new Error(`no defend job ${quote(jobId)} is running`);
    job.cancel();
  }
}
