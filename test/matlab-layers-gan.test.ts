// The layers of MATLAB's GAN example (src/matlab/layers.ts): transposedConv2dLayer against the
// definition of the transposed convolution written out here (MATLAB's weight layout fh × fw ×
// numFilters × numChannels, Cropping 'same' and numeric), projectAndReshapeLayer against
// fullyconnect followed by MATLAB's column-major reshape, tanhLayer and sigmoidLayer against their
// formulas, gradients of a small generator and discriminator against central differences, and
// the errors, named.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectClose } from './helpers.js';
import { expectError } from './nn-helpers.js';
import {
  imageInputLayer, featureInputLayer, convolution2dLayer, batchNormalizationLayer, reluLayer, leakyReluLayer,
  transposedConv2dLayer, tanhLayer, sigmoidLayer, projectAndReshapeLayer, dropoutLayer,
} from '../src/matlab/layers.js';
import { dlnetwork, forward, predict, type DlNetwork } from '../src/matlab/dlnetwork.js';
import { dlarray } from '../src/matlab/dlarray.js';
import { copyInto } from '../src/nn/module.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

type N4 = number[][][][];

/**
 * MATLAB's transposed convolution, written out: each input value X(p, q, c, b) adds
 * X·W(:, :, f, c) to the full output at rows s·p …, columns s·q …; the output is the full one
 * with `top` rows and `left` columns cropped first, of size outH × outW.
 */
function transposedConvRef(X: N4, W: N4, bias: number[], stride: number, top: number, left: number, outH: number, outW: number): N4 {
  const [H, Wd, C, B] = [X.length, X[0].length, X[0][0].length, X[0][0][0].length];
  const [fh, fw, F] = [W.length, W[0].length, W[0][0].length];
  const Y: N4 = Array.from({ length: outH }, () => Array.from({ length: outW }, () => Array.from({ length: F }, (_, f) => new Array<number>(B).fill(bias[f]))));
  for (let p = 0; p < H; p++) for (let q = 0; q < Wd; q++) for (let c = 0; c < C; c++) for (let b = 0; b < B; b++) {
    for (let u = 0; u < fh; u++) for (let v = 0; v < fw; v++) {
      const i = stride * p + u - top, j = stride * q + v - left;
      if (i < 0 || j < 0 || i >= outH || j >= outW) continue;
      for (let f = 0; f < F; f++) Y[i][j][f][b] += X[p][q][c][b] * W[u][v][f][c];
    }
  }
  return Y;
}

const row = (net: DlNetwork, layer: string, p: string): Tensor => net.Learnables.find((r) => r.Layer === layer && r.Parameter === p)!.Value;

describe('transposedConv2dLayer', () => {
  it("MATLAB's layout and sizes: 4×4 → 8×8 with filter 5 (the GAN example's first layer), ×Stride with Cropping 'same'", () => {
    wg.seed(1);
    const net = dlnetwork([
      imageInputLayer([4, 4, 6]),
      transposedConv2dLayer(5, 4),
      transposedConv2dLayer(5, 2, 'Stride', 2, 'Cropping', 'same'),
      transposedConv2dLayer([3, 2], 3, { Stride: [2, 3], Cropping: [1, 0, 0, 2] }),
    ]);
    expect(net.Layers.map((l) => l.Name)).toEqual(['imageinput', 'transconv_1', 'transconv_2', 'transconv_3']);
    expect(net.Learnables.map((r) => [r.Layer, r.Parameter, r.Value.shape])).toEqual([
      ['transconv_1', 'Weights', [5, 5, 4, 6]], ['transconv_1', 'Bias', [1, 1, 4]],
      ['transconv_2', 'Weights', [5, 5, 2, 4]], ['transconv_2', 'Bias', [1, 1, 2]],
      ['transconv_3', 'Weights', [3, 2, 3, 2]], ['transconv_3', 'Bias', [1, 1, 3]],
    ]);
    const l = net.Layers[2] as any;
    expect([l.NumChannels, l.CroppingMode, l.Stride]).toEqual([4, 'same', [2, 2]]);
    expect((net.Layers[3] as any).Cropping).toEqual([[1, 0], [0, 2]]);
    // Glorot: uniform within sqrt(6 / (numIn + numOut)), numIn = 25·numFilters, numOut = 25·numChannels
    const w = Array.from(row(net, 'transconv_1', 'Weights').data() as Float32Array);
    const bound = Math.sqrt(6 / (25 * 4 + 25 * 6));
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(bound * 0.9);
    wg.tidy(() => {
      const [Y1, Y2, Y3] = predict(net, wg.rand([4, 4, 6, 2]), { Outputs: ['transconv_1', 'transconv_2', 'transconv_3'] });
      expect(Y1.shape).toEqual([8, 8, 4, 2]);               // (4 − 1)·1 + 5
      expect(Y2.shape).toEqual([16, 16, 2, 2]);             // 8·2
      // (16 − 1)·2 + 3 − 1 − 0 = 32 rows, (16 − 1)·3 + 2 − 0 − 2 = 45 columns
      expect(Y3.shape).toEqual([32, 45, 3, 2]);
      expect(Y3.format).toBe('SSCB');
      return undefined;
    });
    net.dispose();
  });

  it('values: the transposed convolution written out, with the bias, for Cropping \'same\' and numeric cropping', () => {
    for (const [opts, top, left, outH, outW] of [
      [{ Stride: 2, Cropping: 'same' }, 0, 0, 6, 8],   // full (3−1)·2+3 = 7 → 6 (one row cropped at the bottom); (4−1)·2+3 = 9 → 8
      [{ Stride: 2, Cropping: [1, 2] }, 1, 2, 5, 5],    // [a b]: a rows top and bottom, b columns left and right
      [{ Cropping: [0, 1, 2, 0] }, 0, 2, 4, 4],         // [t b l r], stride 1: 5 − 0 − 1 rows, 6 − 2 − 0 columns
    ] as const) {
      wg.seed(2);
      const net = dlnetwork([imageInputLayer([3, 4, 2]), transposedConv2dLayer(3, 3, opts as object)]);
      wg.tidy(() => {
        copyInto(row(net, 'transconv', 'Bias'), wg.tensor([0.5, -1, 2], { shape: [1, 1, 3] }));
        const X = wg.rand([3, 4, 2, 2]);
        const Y = predict(net, X);
        const ref = transposedConvRef(X.toArray() as N4, row(net, 'transconv', 'Weights').toArray() as N4, [0.5, -1, 2], opts.Stride ?? 1, top, left, outH, outW);
        expect(Y.shape).toEqual([outH, outW, 3, 2]);
        expectClose(Y.data(), ref.flat(3), 1e-5, 1e-5);
        return undefined;
      });
      net.dispose();
    }
  });

  it('bad input: sizes, Cropping, option names, a wrong input format (the runtime keeps working)', () => {
    expectError(() => transposedConv2dLayer(0, 2), wg.ValueError, ['transposedConv2dLayer', 'filterSize']);
    expectError(() => transposedConv2dLayer(3, 2.5), wg.ValueError, ['transposedConv2dLayer', 'numFilters']);
    expectError(() => transposedConv2dLayer(3, 2, 'Cropping', 'valid'), wg.ValueError, ['transposedConv2dLayer', 'Cropping', "'same'"]);
    expectError(() => transposedConv2dLayer(3, 2, 'Croping', 1), wg.ValueError, ['transposedConv2dLayer', "'Croping'", "Did you mean 'Cropping'?"]);
    expectError(() => transposedConv2dLayer(3, 2, 'Stride', [1, 2, 3]), wg.ValueError, ['transposedConv2dLayer', 'Stride']);
    expectError(() => dlnetwork([featureInputLayer(3), transposedConv2dLayer(3, 2)]), wg.ValueError, ["layer 'transconv'", "'CB'", "'S'"]);
    // cropping everything away
    expectError(() => dlnetwork([imageInputLayer([2, 2, 1]), transposedConv2dLayer(2, 1, 'Cropping', [2, 1])]), wg.ValueError, ["layer 'transconv'", 'Cropping']);
    const net = dlnetwork([imageInputLayer([2, 2, 1]), transposedConv2dLayer(2, 1)]);
    wg.tidy(() => { expect(predict(net, wg.rand([2, 2, 1, 1])).shape).toEqual([3, 3, 1, 1]); return undefined; });
    net.dispose();
  });
});

describe('projectAndReshapeLayer, tanhLayer, sigmoidLayer', () => {
  it("projectAndReshapeLayer: fullyconnect, then MATLAB's column-major reshape to h × w × c × B ('SSCB')", () => {
    wg.seed(3);
    const net = dlnetwork([featureInputLayer(3), projectAndReshapeLayer([2, 3, 4], 'Name', 'proj')]);
    expect(net.Learnables.map((r) => [r.Layer, r.Parameter, r.Value.shape])).toEqual([['proj', 'Weights', [24, 3]], ['proj', 'Bias', [24, 1]]]);
    const layer = net.Layers[1] as any;
    expect([layer.NumChannels, layer.OutputSize, layer.Type, layer.Description]).toEqual([3, [2, 3, 4], 'Project and Reshape', 'Project and reshape to size 2 3 4']);
    wg.tidy(() => {
      const bias = Array.from({ length: 24 }, (_, k) => k / 10);
      copyInto(row(net, 'proj', 'Bias'), wg.tensor(bias, { shape: [24, 1] }));
      const W = row(net, 'proj', 'Weights').toArray() as number[][];
      const X = wg.rand([3, 5]);
      const x = X.toArray() as number[][];
      const Y = predict(net, X);
      expect(Y.shape).toEqual([2, 3, 4, 5]);
      expect(Y.format).toBe('SSCB');
      const y = Y.toArray() as N4;
      for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) for (let b = 0; b < 5; b++) {
        const p = i + 2 * j + 6 * k; // MATLAB's linear index (0-based) of (i, j, k) in a 2×3×4 array
        const ref = bias[p] + W[p][0] * x[0][b] + W[p][1] * x[1][b] + W[p][2] * x[2][b];
        expect(Math.abs(y[i][j][k][b] - ref)).toBeLessThan(1e-5);
      }
      return undefined;
    });
    net.dispose();
  });

  it('tanhLayer and sigmoidLayer: their formulas, elementwise, the format kept; default names', () => {
    const net = dlnetwork([featureInputLayer(3), tanhLayer(), sigmoidLayer()]);
    expect(net.Layers.map((l) => [l.Name, l.Type])).toEqual([['input', 'FeatureInputLayer'], ['tanh', 'TanhLayer'], ['sigmoid', 'SigmoidLayer']]);
    wg.tidy(() => {
      const x = [[-3, 0.5], [0, 2], [1, -0.25]];
      const [T, S] = predict(net, wg.tensor(x), { Outputs: ['tanh', 'sigmoid'] });
      expect([T.format, S.format]).toEqual(['CB', 'CB']);
      expectClose(T.data(), x.flat().map(Math.tanh), 1e-6, 1e-7);
      expectClose(S.data(), x.flat().map((v) => 1 / (1 + Math.exp(-Math.tanh(v)))), 1e-6, 1e-7);
      return undefined;
    });
    net.dispose();
  });

  it('bad input: outputSize, input format, option names', () => {
    expectError(() => projectAndReshapeLayer([2, 3]), wg.ValueError, ['projectAndReshapeLayer', 'outputSize', '[h w c]']);
    expectError(() => projectAndReshapeLayer([2, 0, 3]), wg.ValueError, ['projectAndReshapeLayer', 'outputSize']);
    expectError(() => projectAndReshapeLayer([2, 2, 3], 'WeightsInitializer', 'he'), wg.ValueError, ['projectAndReshapeLayer', "'WeightsInitializer'"]);
    expectError(() => tanhLayer('Nme', 'a'), wg.ValueError, ['tanhLayer', "'Nme'", "Did you mean 'Name'?"]);
    expectError(() => dlnetwork([imageInputLayer([2, 2, 1]), projectAndReshapeLayer([2, 2, 1])]), wg.ValueError, ["layer 'proj'", "'SSCB'", "'CB'"]);
  });
});

describe('gradients of a small GAN pair against central differences (float64)', () => {
  it('generator (project, transposed convolutions, batchnorm, tanh) and discriminator (dropout off, convolutions, leaky ReLU, sigmoid)', () => {
    wg.seed(4);
    const netG = dlnetwork([
      featureInputLayer(3), projectAndReshapeLayer([2, 2, 4]), transposedConv2dLayer(3, 3),
      batchNormalizationLayer(), reluLayer(), transposedConv2dLayer(3, 1, 'Stride', 2, 'Cropping', 'same'), tanhLayer(),
    ]);
    const netD = dlnetwork([
      imageInputLayer([8, 8, 1]), dropoutLayer(0), convolution2dLayer(3, 2, 'Stride', 2, 'Padding', 'same'), leakyReluLayer(0.2),
      convolution2dLayer(4, 1), sigmoidLayer(),
    ]);
    netG.to('float64');
    netD.to('float64');
    const Z = dlarray(wg.randn([3, 4], { dtype: 'float64' }), 'CB');
    const X = dlarray(wg.rand([8, 8, 1, 4], { dtype: 'float64' }).mul(2).sub(1), 'SSCB');
    // MATLAB's ganLoss: lossD = −mean(log(YReal)) − mean(log(1 − YGenerated)), lossG = −mean(log(YGenerated))
    const losses = (g: DlNetwork, d: DlNetwork): [Tensor, Tensor] => {
      const [YReal] = forward(d, X);
      const [XGenerated] = forward(g, Z);
      const [YGenerated] = forward(d, XGenerated);
      expect(XGenerated.shape).toEqual([8, 8, 1, 4]);
      expect(YGenerated.shape).toEqual([1, 1, 1, 4]);
      const lossD = YReal.log().mean().neg().sub(YGenerated.neg().add(1).log().mean());
      const lossG = YGenerated.log().mean().neg();
      return [lossG, lossD];
    };
    const [gG, gD] = wg.dlfeval((g: DlNetwork, d: DlNetwork) => {
      const [lossG, lossD] = losses(g, d);
      return [wg.dlgradient(lossG, g.Learnables, 'RetainData', true), wg.dlgradient(lossD, d.Learnables)];
    }, netG, netD) as [{ Value: Tensor }[], { Value: Tensor }[]];
    const eps = 1e-6;
    for (const [net, grads, which] of [[netG, gG, 0], [netD, gD, 1]] as const) {
      for (const [i, r] of net.Learnables.entries()) {
        const p = r.Value;
        const base = Float64Array.from(p.data() as Float64Array);
        const g = grads[i].Value.data() as Float64Array;
        for (const k of [0, base.length - 1]) {
          const at = (d: number) => {
            const v = Float64Array.from(base);
            v[k] += d;
            return wg.tidy(() => { copyInto(p, wg.tensor(v, { shape: p.shape, dtype: 'float64' })); return losses(netG, netD)[which].item(); });
          };
          const fd = (at(eps) - at(-eps)) / (2 * eps);
          at(0);
          expect(Math.abs(g[k] - fd), `${r.Layer}.${r.Parameter}[${k}]: ${g[k]} vs ${fd}`).toBeLessThan(1e-7 + 1e-6 * Math.abs(fd));
        }
      }
    }
    wg.dispose([gG.map((r) => r.Value), gD.map((r) => r.Value), Z, X]);
    netG.dispose();
    netD.dispose();
  });
});
