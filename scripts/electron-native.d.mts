export const NATIVE_DIR: string;
export const BINDING: string;
export const TOOLCHAIN_HELP: string;
export function missingToolchain(env?: NodeJS.ProcessEnv, platform?: NodeJS.Platform): string[];
export function ensureElectronSqlite(options: {
  root: string;
  electronVersion: string;
  platform?: NodeJS.Platform;
  arch?: string;
  env?: NodeJS.ProcessEnv;
  log?: (message: string) => void;
}): Promise<{ binding: string; source: 'cached' | 'prebuilt' | 'compiled' }>;
