import { describe, expect, it } from 'vitest';
import { exitReason } from '../../src/main/lab/supervisor';

/** What a dead worker's failure says: its error line, never an unrelated warning it printed earlier. */
describe('the reason a worker died', () => {
  const dawn = 'Warning: Dawn adapter "llvmpipe (LLVM 15.0.6, 256 bits)" is a software adapter; the lab will not use it';

  it('a SIGKILL with nothing but warnings on stderr says only that it was killed', () => {
    expect(exitReason(null, 'SIGKILL', `${dawn}\n(node:123) [DEP0040] DeprecationWarning: The punycode module is deprecated.\n`)).toBe('worker killed by SIGKILL');
  });

  it('keeps the error line that explains a death, after any warnings', () => {
    const tail = `${dawn}\nRangeError: wasm memory access out of bounds\n    at Module._free (tfjs-backend-wasm.js:9:1)\n`;
    expect(exitReason(null, 'SIGKILL', tail)).toBe('worker killed by SIGKILL: RangeError: wasm memory access out of bounds');
    expect(exitReason(1, null, tail)).toBe('worker exited with code 1: RangeError: wasm memory access out of bounds');
  });

  it('an exit code with no error line gives the last line that is not a warning', () => {
    expect(exitReason(3, null, `${dawn}\ncannot open the dataset\n`)).toBe('worker exited with code 3: cannot open the dataset');
    expect(exitReason(3, null, `${dawn}\n`)).toBe('worker exited with code 3');
  });
});
