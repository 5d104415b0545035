// Regression tests for options the activation, attention, normalisation, loss and recurrent ops
// used to ignore without a word: a misspelt key (PyTorch's snake_case, a shortened name) ran with
// the default and gave a wrong answer. Each is now a ValueError naming the function, the key, the
// valid keys and the nearest one; extra positional arguments are refused too. After each error
// nothing leaks and the runtime still works; the right spelling still gives the right answer.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectError, expectClose, flat, runtimeWorks } from './helpers.js';

beforeAll(async () => { await wg.init(); });

const t64 = (v: number[], shape: number[]) => wg.tensor(v, { shape, dtype: 'float64' });
const qkv = () => t64([0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8, -0.9], [3, 3]);

describe('scaledDotProductAttention', () => {
  it('{ mask, causal } is refused: mask → attnMask, causal → isCausal', () => {
    const mask = wg.tensor([[true, false, false], [true, true, false], [true, true, true]], { dtype: 'bool' });
    expectError(() => wg.scaledDotProductAttention(qkv(), qkv(), qkv(), { mask, causal: true } as any), wg.ValueError,
      'scaledDotProductAttention', "unknown option 'mask'", "Did you mean 'attnMask'?",
      "valid keys: 'attnMask', 'isCausal', 'scale', 'dropoutP'");
    expectError(() => wg.scaledDotProductAttention(qkv(), qkv(), qkv(), { causal: true } as any), wg.ValueError,
      'scaledDotProductAttention', "unknown option 'causal'", "Did you mean 'isCausal'?");
    expectError(() => qkv().scaledDotProductAttention(qkv(), qkv(), { is_causal: true } as any), wg.ValueError,
      'scaledDotProductAttention', "'is_causal'", "Did you mean 'isCausal'?");
    mask.dispose();
    runtimeWorks();
  });

  it('the right keys still work: isCausal equals the equivalent attnMask and differs from no mask', () => {
    wg.tidy(() => {
      const mask = wg.tensor([[true, false, false], [true, true, false], [true, true, true]], { dtype: 'bool' });
      const causal = wg.scaledDotProductAttention(qkv(), qkv(), qkv(), { isCausal: true });
      const masked = wg.scaledDotProductAttention(qkv(), qkv(), qkv(), { attnMask: mask });
      const plain = wg.scaledDotProductAttention(qkv(), qkv(), qkv());
      expectClose(flat(causal.toArray()), flat(masked.toArray()), 1e-15, 1e-15);
      expect(flat(causal.toArray())).not.toEqual(flat(plain.toArray()));
    });
  });

  it('extra arguments are refused', () => {
    expectError(() => (wg.scaledDotProductAttention as any)(qkv(), qkv(), qkv(), {}, { isCausal: true }), wg.ValueError,
      'scaledDotProductAttention: takes at most 4 arguments', 'argument 5 is an object');
  });
});

describe('multiHeadAttention and nn.MultiheadAttention', () => {
  it('need_weights is refused, naming needWeights', () => {
    const seq = () => wg.tensor([[[0.1, 0.2]], [[0.3, -0.4]]]);
    const params = () => ({ in_proj_weight: wg.ones([6, 2]), 'out_proj.weight': wg.ones([2, 2]) });
    expectError(() => wg.multiHeadAttention(seq(), seq(), seq(), params(), { numHeads: 1, need_weights: false } as any), wg.ValueError,
      'multiHeadAttention', "'need_weights'", "Did you mean 'needWeights'?");
    const layer = new wg.nn.MultiheadAttention(2, 1);
    expectError(() => layer.forward(seq(), seq(), seq(), { key_padding_mask: null } as any), wg.ValueError,
      "'key_padding_mask'", "Did you mean 'keyPaddingMask'?");
    for (const p of layer.parameters()) p.dispose();
    runtimeWorks();
  });
});

describe('layerNorm', () => {
  const x = () => t64([1, 2, 4, -1, 0, 3], [2, 3]);

  it('{ epsilon } is refused, naming eps', () => {
    expectError(() => wg.layerNorm(x(), [3], null, null, { epsilon: 1e-5 } as any), wg.ValueError,
      'layerNorm', "unknown option 'epsilon'", "Did you mean 'eps'?", "valid keys: 'eps'");
    expectError(() => x().layerNorm(3, null, null, { epsilon: 0.5 } as any), wg.ValueError, 'layerNorm', "Did you mean 'eps'?");
  });

  it('eps still takes effect', () => {
    wg.tidy(() => {
      const small = flat(wg.layerNorm(x(), 3, null, null, { eps: 1e-5 }).toArray());
      const large = flat(wg.layerNorm(x(), 3, null, null, { eps: 10 }).toArray());
      expect(Math.abs(large[0])).toBeLessThan(Math.abs(small[0]) / 2);
    });
  });

  it('extra arguments are refused', () => {
    expectError(() => (wg.layerNorm as any)(x(), 3, null, null, { eps: 1e-5 }, 1e-3), wg.ValueError,
      'layerNorm: takes at most 5 arguments', 'argument 6 is the number 0.001');
    expectError(() => (x() as any).layerNorm(3, null, null, {}, 1), wg.ValueError, 'Tensor.layerNorm: takes at most 4 arguments');
  });

  it('the other normalisations name themselves', () => {
    const x4 = () => t64([1, 2, 3, 4, 5, 6, 7, 8], [1, 4, 2]);
    expectError(() => wg.groupNorm(x4(), 2, null, null, { epsilon: 1e-3 } as any), wg.ValueError, 'groupNorm', "Did you mean 'eps'?");
    expectError(() => wg.batchNorm(x4(), null, null, null, null, { train: true } as any), wg.ValueError, 'batchNorm', "'train'", "Did you mean 'training'?");
    expectError(() => wg.instanceNorm(x4(), null, null, null, null, { use_input_stats: false } as any), wg.ValueError,
      'instanceNorm', "Did you mean 'useInputStats'?");
    expectError(() => wg.crosschannelnorm(x4(), 2, { Alpha: 1 } as any), wg.ValueError, 'crosschannelnorm', "Did you mean 'alpha'?");
    expectError(() => wg.localResponseNorm(x4(), 2, { bias: 1 } as any), wg.ValueError, 'localResponseNorm', "'bias'", "valid keys: 'alpha', 'beta', 'k'");
  });
});

describe('losses', () => {
  const x = () => t64([0.5, -1, 2, 1.5, 0.25, -0.75], [2, 3]);
  const t = () => t64([0, 1, 2, 1, 0, 1], [2, 3]);

  it("{ reduce: 'sum' } is refused, naming the function and listing reduction", () => {
    for (const [name, call] of [
      ['mseLoss', () => wg.mseLoss(x(), t(), { reduce: 'sum' } as any)],
      ['l1Loss', () => x().l1Loss(t(), { reduce: 'sum' } as any)],
      ['huberLoss', () => wg.huberLoss(x(), t(), { reduce: 'sum' } as any)],
      ['crossEntropy', () => wg.crossEntropy(x(), [0, 2], { reduce: 'sum' } as any)],
      ['nllLoss', () => wg.nllLoss(x(), [0, 2], { reduce: 'sum' } as any)],
    ] as const) {
      expectError(call, wg.ValueError, `${name}: unknown option 'reduce'`, "'reduction'");
    }
  });

  // 'reduce' is 4 edits from 'reduction' and not a prefix of it: nearestKey's stem rule finds it.
  it("{ reduce: 'sum' } suggests 'reduction'", () => {
    let err: unknown;
    try { wg.tidy(() => wg.huberLoss(x(), t(), { reduce: 'sum' } as any)); } catch (e) { err = e; }
    expect((err as Error).message).toContain("Did you mean 'reduction'?");
  });

  it('{ label_smoothing } is refused, naming labelSmoothing; labelSmoothing still takes effect', () => {
    expectError(() => wg.crossEntropy(x(), [0, 2], { label_smoothing: 0.1 } as any), wg.ValueError,
      'crossEntropy', "unknown option 'label_smoothing'", "Did you mean 'labelSmoothing'?",
      "valid keys: 'reduction', 'weight', 'ignoreIndex', 'labelSmoothing'");
    expectError(() => wg.indexcrossentropy(x(), [0, 2], { label_smoothing: 0.1 } as any), wg.ValueError,
      'indexcrossentropy', "Did you mean 'labelSmoothing'?");
    expectError(() => x().crossEntropy([0, 2], { ignore_index: 1 } as any), wg.ValueError, 'crossEntropy', "Did you mean 'ignoreIndex'?");
    wg.tidy(() => {
      const plain = wg.crossEntropy(x(), [0, 2]).item();
      const smooth = wg.crossEntropy(x(), [0, 2], { labelSmoothing: 0.1 }).item();
      expect(smooth).not.toBeCloseTo(plain, 6);
    });
  });

  it('other misspellings name the real key', () => {
    expectError(() => wg.binaryCrossEntropyWithLogits(x(), wg.sigmoid(t()), { pos_weight: 2 } as any), wg.ValueError,
      'binaryCrossEntropyWithLogits', "Did you mean 'posWeight'?");
    expectError(() => wg.klDiv(x(), t(), { log_target: true } as any), wg.ValueError, 'klDiv', "Did you mean 'logTarget'?");
    expectError(() => wg.smoothL1Loss(x(), t(), { Beta: 0.5 } as any), wg.ValueError, 'smoothL1Loss', "Did you mean 'beta'?");
  });

  it('extra arguments are refused (an options object where none is taken, a second one)', () => {
    expectError(() => (wg.crossEntropy as any)(x(), [0, 2], {}, { labelSmoothing: 0.1 }), wg.ValueError,
      'crossEntropy: takes at most 3 arguments');
    expectError(() => (x() as any).mseLoss(t(), {}, 'sum'), wg.ValueError, 'Tensor.mseLoss: takes at most 2 arguments', 'argument 3 is the string "sum"');
    // trailing undefineds (a wrapper passing its own optional arguments on) are fine
    wg.tidy(() => { expect((wg.mseLoss as any)(x(), t(), undefined, undefined).item()).toBeCloseTo(wg.mseLoss(x(), t()).item(), 12); });
  });
});

describe('activations, dropout, linear, clamp', () => {
  const x = () => t64([0.5, -1, 2], [3]);

  it('misspelt options name the real key', () => {
    expectError(() => wg.gelu(x(), { approx: 'tanh' } as any), wg.ValueError, 'gelu', "'approx'", "Did you mean 'approximate'?");
    expectError(() => x().softplus({ Beta: 2 } as any), wg.ValueError, 'softplus', "Did you mean 'beta'?");
    expectError(() => wg.dropout(x(), 0.5, { train: false } as any), wg.ValueError, 'dropout', "Did you mean 'training'?");
  });

  it('extra arguments are refused', () => {
    expectError(() => (wg.softmax as any)(x(), 0, { dtype: 'float32' }), wg.ValueError, 'softmax: takes at most 2 arguments (x, axis?)');
    expectError(() => (x() as any).gelu({}, 'tanh'), wg.ValueError, 'Tensor.gelu: takes at most 1 argument', 'argument 2 is the string "tanh"');
    expectError(() => (wg.dropout as any)(x(), 0.5, { training: false }, true), wg.ValueError, 'dropout: takes at most 3 arguments');
    expectError(() => (wg.leakyRelu as any)(x(), 0.1, 0.2), wg.ValueError, 'leakyRelu: takes at most 2 arguments');
    expectError(() => (wg.hardtanh as any)(x(), -1, 1, 2), wg.ValueError, 'hardtanh: takes at most 3 arguments');
    expectError(() => (wg.clamp as any)(x(), 0, 1, 2), wg.ValueError, 'clamp: takes at most 3 arguments (x, min?, max?)');
    expectError(() => (x() as any).clamp(0, 1, 2), wg.ValueError, 'Tensor.clamp: takes at most 2 arguments');
    const w = () => t64([1, 2, 3, 4, 5, 6], [2, 3]);
    expectError(() => (wg.linear as any)(x(), w(), null, { bias: false }), wg.ValueError, 'linear: takes at most 3 arguments');
  });
});

describe('lstm and gru', () => {
  const x = () => t64([0.5, -0.5, 1, 0.25, -1, 2], [3, 1, 2]);
  const params = (gates: number) => ({ weight_ih_l0: wg.full([gates * 2, 2], 0.1, { dtype: 'float64' }), weight_hh_l0: wg.full([gates * 2, 2], -0.2, { dtype: 'float64' }) });

  it('misspelt options name the real key', () => {
    expectError(() => wg.lstm(x(), null, params(4), { num_layers: 1 } as any), wg.ValueError, 'lstm', "'num_layers'", "Did you mean 'numLayers'?");
    expectError(() => wg.gru(x(), null, params(3), { bidirectonal: true } as any), wg.ValueError, 'gru', "Did you mean 'bidirectional'?");
    expectError(() => wg.gru(x(), null, params(3), { batch_first: true } as any), wg.ValueError, 'gru', "Did you mean 'batchFirst'?");
  });

  it('extra arguments are refused', () => {
    expectError(() => (wg.lstm as any)(x(), null, params(4), {}, { numLayers: 2 }), wg.ValueError, 'lstm: takes at most 4 arguments');
  });
});
