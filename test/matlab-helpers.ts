// Test helpers for the MATLAB layer: a dlnetwork's gradients against central differences.
import { expect } from 'vitest';
import { wg } from './helpers.js';
import { copyInto } from '../src/nn/module.js';
import type { DlNetwork } from '../src/matlab/dlnetwork.js';
import type { Tensor } from '../src/index.js';

/**
 * Checks dlgradient's table `g` (rows in net.Learnables' order) against central differences of
 * lossOf(net) at the given flat entries of each learnable of a float64 network; each learnable
 * is restored after its entries.
 */
export function expectLearnableGradients(net: DlNetwork, lossOf: (n: DlNetwork) => Tensor, g: { Value: Tensor }[],
  entries: (n: number) => number[] = (n) => [0, n - 1]): void {
  const eps = 1e-6;
  for (const [i, r] of net.Learnables.entries()) {
    const base = Float64Array.from(r.Value.data() as Float64Array);
    for (const k of entries(base.length)) {
      const at = (d: number) => wg.tidy(() => {
        const v = Float64Array.from(base);
        v[k] += d;
        copyInto(r.Value, wg.tensor(v, { shape: r.Value.shape, dtype: 'float64' }));
        return lossOf(net).item();
      });
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      at(0);
      const got = (g[i].Value.data() as Float64Array)[k];
      expect(Math.abs(got - fd), `${r.Layer}.${r.Parameter}[${k}]: ${got} vs ${fd}`).toBeLessThan(1e-8 + 1e-6 * Math.abs(fd));
    }
  }
}
