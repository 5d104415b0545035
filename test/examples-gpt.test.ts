// examples/gpt: the nanoGPT-style character model trains (tied weights, AdamW groups, clipping),
// samples with multinomial, saves a checkpoint and resumes from it, run as a user runs it.

import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
// @ts-expect-error plain JS example
import { main } from '../examples/gpt/train.mjs';

describe('examples/gpt', () => {
  it('a short run lowers the loss, samples text, saves a checkpoint that a second run resumes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wasmgrad-gpt-'));
    try {
      const out = path.join(dir, 'ckpt');
      const first = await main(['--steps', '60', '--sample', '40', '--quiet', '--out', out]);
      expect(first.first).toBeGreaterThan(3);        // about ln(53) at the start
      expect(first.last).toBeLessThan(first.first - 0.5);
      expect(first.sample.startsWith('Alice ')).toBe(true);
      expect(first.sample.length).toBe(46);
      expect(existsSync(`${out}.model.safetensors`) && existsSync(`${out}.optim.safetensors`)).toBe(true);
      const resumed = await main(['--steps', '10', '--sample', '0', '--quiet', '--resume', out]);
      // the resumed model starts where the first run ended, far below a fresh start
      expect(resumed.first).toBeLessThan(first.first - 0.5);
      expect(resumed.parameters).toBe(first.parameters); // the tie survives the checkpoint
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
