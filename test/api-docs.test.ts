// The API reference (npm run docs): TypeDoc over the shipped entry points (typedoc.json) finds every
// export documented and every {@link} resolvable. typedoc.json turns those validation warnings
// into errors, so one undocumented export fails this test with its name and file in the output.

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { root } from './runtimes/harness.js';

describe('API reference', () => {
  it('typedoc validates every export as documented, with no broken links', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'node_modules/typedoc/bin/typedoc'), '--emit', 'none'],
      { cwd: root, encoding: 'utf8' });
    const out = `${r.stdout}\n${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
    const problems = out.split('\n').filter((l) => /\[(warning|error)\]/.test(l));
    expect(problems).toEqual([]);
    expect(r.status).toBe(0);
  }, 240_000);
});
