import { badInput } from './errors';

/**
 * Turns an archive member name into a safe relative path ("a/b/c.jpg"), or
 * throws when it could escape the destination: absolute paths, drive letters,
 * ".." segments. Backslashes count as separators so "..\\x" is caught too.
 */
export function safeRelativePath(name: string, where: string): string {
  if (name.includes('\0')) throw badInput(`${where}: entry name contains a NUL byte`);
  if (/^[\\/]/.test(name) || /^[A-Za-z]:/.test(name)) {
    throw badInput(`${where}: entry "${name}" has an absolute path; refusing the archive`);
  }
  const parts: string[] = [];
  for (const seg of name.split(/[\\/]+/)) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      throw badInput(`${where}: entry "${name}" climbs out of the archive with ".."; refusing the archive`);
    }
    parts.push(seg);
  }
  return parts.join('/');
}

/** OS clutter that is never data: hidden files, macOS resource forks, Windows thumbnails. */
export function isIgnorable(relPath: string): boolean {
  return relPath.split('/').some(
    (seg) => seg.startsWith('.') || seg === '__MACOSX' || seg === 'Thumbs.db' || seg === 'desktop.ini',
  );
}

export function baseName(relPath: string): string {
  const i = relPath.lastIndexOf('/');
  return i < 0 ? relPath : relPath.slice(i + 1);
}

export function dirName(relPath: string): string {
  const i = relPath.lastIndexOf('/');
  return i < 0 ? '' : relPath.slice(0, i);
}

export function joinRel(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** Code-point order: stable across locales, so class indices never depend on the machine. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
