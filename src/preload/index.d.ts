import type { LabApi } from '../shared/lab-api';

declare global {
  interface Window {
    lab?: LabApi;
  }
}
export {};
