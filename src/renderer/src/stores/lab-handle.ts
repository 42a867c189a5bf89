import type { LabApi } from '../../../shared/lab-api';

let current: LabApi | null = null;

/** Give the stores their LabApi: main.ts passes useLab(), unit tests a fake. */
export function provideLab(api: LabApi): void {
  current = api;
}

export function labApi(): LabApi {
  if (!current) throw new Error('no LabApi: call provideLab() before using the stores');
  return current;
}
