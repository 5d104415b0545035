// The activation, normalisation and loss registries name real exports: each is a function and a
// Tensor method, differentiable in float64 and float32.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg } from './helpers.js';
import { norm } from './registry/norm.js';
import { activation } from './registry/activation.js';
import { loss } from './registry/loss.js';

beforeAll(async () => { await wg.init(); });

describe('registry of the activation, normalisation and loss families', () => {
  for (const op of [...norm, ...activation, ...loss]) {
    it(`${op.name} is exported as a function and a Tensor method`, () => {
      expect(typeof (wg as any)[op.name]).toBe('function');
      expect(typeof (wg.Tensor.prototype as any)[op.name]).toBe('function');
      expect(op.vjp && op.jvp && op.float32 && op.float64).toBe(true);
      if (op.aliasOf) expect(typeof (wg as any)[op.aliasOf]).toBe('function');
    });
  }
});
