import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchFolder, folderManifest, putFolder } from '../../src/main/lab/distributed/blobs';
import { redisClient } from '../../src/main/lab/distributed/redis-url';
import { startRedis, type TestRedis } from './redis-server';

let server: TestRedis;
let redis: Redis;
let dir: string;

beforeAll(async () => {
  server = await startRedis();
  redis = redisClient(server.url);
  dir = mkdtempSync(join(tmpdir(), 'adlab-blobs-'));
}, 60_000);

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('content-addressed folder blobs in Redis', () => {
  it('round-trip a folder whose file spans several chunks, and upload each content once', async () => {
    const src = join(dir, 'src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    const big = Buffer.alloc(9 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
    writeFileSync(join(src, 'sub', 'weights.bin'), big);
    writeFileSync(join(src, 'meta.json'), '{"step":3}');
    writeFileSync(join(src, 'copy.json'), '{"step":3}');
    const m = await putFolder(redis, src);
    expect(m.files.map((f) => f.path)).toEqual(['copy.json', 'meta.json', 'sub/weights.bin']);
    expect(m.id).toBe(folderManifest(m.files).id);
    // 9 MiB + 17 bytes in 4 MiB chunks: 3 chunks; the two equal JSON files share one blob.
    const keys = (await redis.keys('adlab:blob:*')).sort();
    expect(keys.filter((k) => k.endsWith(':n'))).toHaveLength(2);
    expect(keys).toHaveLength(2 + 3 + 1);
    const out = await fetchFolder(redis, m, join(dir, 'cache'));
    expect(readFileSync(join(out, 'sub', 'weights.bin')).equals(big)).toBe(true);
    expect(readFileSync(join(out, 'meta.json'), 'utf8')).toBe('{"step":3}');
    // Fetched once: a second fetch is the cached folder, with no temporaries left.
    expect(await fetchFolder(redis, m, join(dir, 'cache'))).toBe(out);
    expect(readdirSync(join(dir, 'cache'))).toEqual([m.id]);
  });

  it('refuse a tampered chunk and a listing whose id does not match, leaving nothing in the cache', async () => {
    const src = join(dir, 'tamper');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'a.bin'), 'original bytes');
    const m = await putFolder(redis, src);
    await redis.set(`adlab:blob:${m.files[0]!.sha256}:0`, 'forged bytes!!');
    await expect(fetchFolder(redis, m, join(dir, 'cache2'))).rejects.toThrow('content does not match its sha256 and size');
    expect(existsSync(join(dir, 'cache2')) ? readdirSync(join(dir, 'cache2')) : []).toEqual([]);
    await expect(fetchFolder(redis, { ...m, id: 'f'.repeat(64) }, join(dir, 'cache2'))).rejects.toThrow('its id is not the sha256 of its listing');
    await redis.del(`adlab:blob:${m.files[0]!.sha256}:n`);
    await expect(fetchFolder(redis, m, join(dir, 'cache2'))).rejects.toThrow('is not in Redis');
  });

  it('refuse a chunk count the declared size does not imply, and a chunk larger than a chunk can be, before reading them', async () => {
    const src = join(dir, 'counted');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'a.bin'), 'ten bytes!');
    const m = await putFolder(redis, src);
    const sha = m.files[0]!.sha256;
    await redis.set(`adlab:blob:${sha}:n`, '100000');
    await expect(fetchFolder(redis, m, join(dir, 'cache3'))).rejects.toThrow(`blob ${sha.slice(0, 12)}: 100000 chunks do not fit its declared 10 bytes`);
    await redis.set(`adlab:blob:${sha}:n`, '1');
    await redis.set(`adlab:blob:${sha}:0`, Buffer.alloc(5 * 2 ** 20));
    await expect(fetchFolder(redis, m, join(dir, 'cache3'))).rejects.toThrow('content does not match its sha256 and size');
    expect(existsSync(join(dir, 'cache3')) ? readdirSync(join(dir, 'cache3')) : []).toEqual([]);
  });
});
