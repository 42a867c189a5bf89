import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { REPO_ROOT } from '../support/paths';

/**
 * A project folder for the desktop preparation scripts (scripts/electron-native.mjs,
 * scripts/start-desktop.mjs) whose outside world is faked at the process and network
 * boundary: the real prebuild-install (linked from node_modules) downloads from a local
 * server instead of GitHub; node-gyp, Electron's install.js and electron-vite are small
 * scripts that record how they were run.
 */
export const SQLITE_VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string }).version;

function write(file: string, text: string, mode?: number): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  if (mode) chmodSync(file, mode);
}

/** A script that appends one JSON line (its argv, cwd and the env it saw) to `log`, then runs `body`. */
function recorder(log: string, body: string): string {
  return `const fs = require('fs'); const path = require('path');
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), nodedir: process.env.npm_config_nodedir ?? null }) + '\\n');
${body}
`;
}

export interface FakeProject {
  root: string;
  /** One JSON line per run of the fake node-gyp. */
  gypLog: string;
  /** A PATH folder holding stand-ins for python3, make and c++ (`toolchain: true`), or nothing. */
  binDir: string;
}

export function fakeProject(root: string, options: { toolchain: boolean; electronInstalled?: boolean }): FakeProject {
  const nm = join(root, 'node_modules');
  const gypLog = join(root, 'node-gyp.log');
  write(join(root, 'package.json'), '{"name":"fake-lab","version":"0.0.0","private":true,"type":"module"}');
  // better-sqlite3 as installed: what prebuild-install reads (name, version) and node-gyp would compile.
  write(join(nm, 'better-sqlite3', 'package.json'), JSON.stringify({ name: 'better-sqlite3', version: SQLITE_VERSION, dependencies: { 'prebuild-install': '*' } }));
  write(join(nm, 'better-sqlite3', 'binding.gyp'), '{}');
  write(join(nm, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'), 'the Node build: must never be copied');
  symlinkSync(join(REPO_ROOT, 'node_modules', 'prebuild-install'), join(nm, 'prebuild-install'), 'junction');
  // node-gyp: writes a binding unless FAKE_GYP_FAIL is set, as a compile that works or not would.
  // The fake tools are CommonJS scripts; the fake project itself is "type": "module".
  write(join(nm, 'node-gyp', 'package.json'), '{"name":"node-gyp","version":"12.4.0","type":"commonjs","bin":{"node-gyp":"bin/node-gyp.js"}}');
  write(
    join(nm, 'node-gyp', 'bin', 'node-gyp.js'),
    recorder(
      gypLog,
      `if (process.env.FAKE_GYP_FAIL) {
  // node-gyp's own way of failing: the reason, its stack, then its environment and "not ok".
  for (const l of ['gyp ERR! find Python Python is not set from command line or npm configuration', 'gyp ERR! configure error', 'gyp ERR! stack Error: Could not find any Python installation to use', 'gyp ERR! stack     at PythonFinder.fail', 'gyp ERR! System Linux 6.1.0', 'gyp ERR! cwd /x', 'gyp ERR! not ok']) console.error(l);
  process.exit(1);
}
fs.mkdirSync(path.join('build', 'Release'), { recursive: true });
fs.writeFileSync(path.join('build', 'Release', 'better_sqlite3.node'), 'compiled by node-gyp');`,
    ),
  );
  // electron: version 45.5.0; install.js "downloads" the binary the way the real one leaves it.
  write(join(nm, 'electron', 'package.json'), '{"name":"electron","version":"45.5.0","type":"commonjs"}');
  const binary = process.platform === 'win32' ? 'electron.exe' : 'electron';
  const installBody = `fs.mkdirSync(path.join(__dirname, 'dist'), { recursive: true });
fs.writeFileSync(path.join(__dirname, 'dist', ${JSON.stringify(binary)}), 'electron');
fs.writeFileSync(path.join(__dirname, 'path.txt'), ${JSON.stringify(binary)});`;
  write(join(nm, 'electron', 'install.js'), recorder(join(root, 'electron-install.log'), installBody));
  if (options.electronInstalled) {
    write(join(nm, 'electron', 'dist', binary), 'electron');
    write(join(nm, 'electron', 'path.txt'), binary);
  }
  write(join(nm, 'electron-vite', 'package.json'), '{"name":"electron-vite","version":"6.0.0","type":"commonjs","bin":{"electron-vite":"bin/electron-vite.js"}}');
  write(
    join(nm, 'electron-vite', 'bin', 'electron-vite.js'),
    recorder(join(root, 'electron-vite.log'), "fs.mkdirSync(path.join(process.cwd(), 'out', 'main'), { recursive: true }); fs.writeFileSync(path.join(process.cwd(), 'out', 'main', 'index.js'), '');"),
  );
  const binDir = join(root, 'bin');
  mkdirSync(binDir, { recursive: true });
  if (options.toolchain) for (const tool of ['python3', 'make', 'c++']) write(join(binDir, tool), '#!/bin/sh\nexit 0\n', 0o755);
  return { root, gypLog, binDir };
}

/** The environment the scripts get: only what the test sets, so no developer setting leaks in. */
export function isolatedEnv(project: FakeProject, mirror: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = ['SystemRoot', 'TEMP', 'TMP', 'PATHEXT'].flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : []));
  return {
    ...Object.fromEntries(keep),
    PATH: project.binDir,
    HOME: project.root,
    USERPROFILE: project.root,
    npm_config_cache: join(project.root, 'npm-cache'),
    // prebuild-install's documented mirror setting for better-sqlite3: here, the local server.
    npm_config_better_sqlite3_binary_host: mirror,
    ...extra,
  };
}

/** The file name better-sqlite3 publishes for an Electron ABI (prebuild's naming; glibc Linux has no libc tag). */
export function prebuiltName(abi: number, platform = process.platform, arch = process.arch): string {
  return `better-sqlite3-v${SQLITE_VERSION}-electron-v${abi}-${platform}-${arch}.tar.gz`;
}

export async function prebuiltTarball(contents: string): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: 'build/Release/better_sqlite3.node', mode: 0o755 }, contents);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

/** A stand-in for the release host: serves `files` by path, 404 for anything else, and logs each request. */
export async function releaseServer(files: Map<string, Buffer>): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = files.get(req.url ?? '');
    if (!body) {
      res.writeHead(404).end('Not Found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Runs `fn` with a release server up, and closes it after, whatever happens. */
export async function withReleaseServer<T>(files: Map<string, Buffer>, fn: (server: { url: string; requests: string[] }) => Promise<T>): Promise<T> {
  const server = await releaseServer(files);
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}
