export function electronBinary(root: string): string | null;
export function electronVersion(root: string): string;
export function prepareDesktop(options: { root: string; env?: NodeJS.ProcessEnv; log?: (message: string) => void }): Promise<string>;
