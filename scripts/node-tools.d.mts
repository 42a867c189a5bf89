export function packageDir(root: string, name: string): string;
export function packageBin(root: string, name: string, command?: string): string;
export function nodeCommand(root: string, name: string, args: string[], command?: string): [string, string[]];
export function runPackage(root: string, name: string, args: string[], options?: { command?: string; env?: NodeJS.ProcessEnv }): void;
export function minimumNode(root: string): [number, number, number];
export function nodeAtLeast(version: string, min: readonly number[]): boolean;
export function requireNode(root: string, what: string): void;
