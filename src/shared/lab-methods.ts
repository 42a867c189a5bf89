/**
 * The LabApi method names, without their schemas, so the preload and the
 * renderer can enumerate them without bundling the validator.
 * lab-api.ts checks at compile time that this list matches the schemas.
 */
export const LAB_METHOD_NAMES = [
  'engineInfo',
  'listRuns',
  'getRun',
  'getMetrics',
  'startTraining',
  'cancelRun',
  'updateRun',
  'deleteRun',
  'resumeRun',
  'exportRunMetrics',
  'startEvaluation',
  'listEvaluations',
  'getEvaluation',
  'cancelEvaluation',
  'resumeEvaluation',
  'deleteEvaluation',
  'exportEvaluation',
  'getEvaluationImages',
  'exportEvaluationImages',
  'getAdversarialImage',
  'getEvaluationRecordImage',
  'defendImage',
  'cancelDefend',
  'listDatasets',
  'pickDatasetSource',
  'importDataset',
  'downloadDataset',
  'cancelImport',
  'previewDataset',
  'deleteDataset',
  'uploadBegin',
  'uploadChunk',
  'uploadEnd',
  'getValConfusion',
  'getEvaluationShards',
  'coordinatorInfo',
  'getRedisSetting',
  'setRedisSetting',
  'startReproduction',
  'projectReproduction',
  'listReproductions',
  'getReproduction',
  'cancelReproduction',
  'resumeReproduction',
  'deleteReproduction',
  'getReproductionReport',
  'exportReproductionReport',
] as const;

export type LabMethodName = (typeof LAB_METHOD_NAMES)[number];

/** Electron IPC channel of a method, and the one channel for events. */
export const ipcChannel = (method: LabMethodName): string => `lab:${method}`;
export const IPC_EVENT_CHANNEL = 'lab:event';
