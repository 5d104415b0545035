// Regression tests for options and arguments that convolution, pooling, indexing, linear algebra,
// shape, creation and random ops used to ignore without a word: a misspelt key (PyTorch's
// snake_case, a plural, a PyTorch-only keyword) ran with the default and gave a wrong answer, and
// an extra positional argument was dropped. Each is now a ValueError naming the function, the key,
// the valid keys and the nearest one (or the signature, for extra arguments). After each error
// nothing leaks and the runtime still works; the right spelling still gives the right answer.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectError, flat } from './helpers.js';

beforeAll(async () => { await wg.init(); });

const img = () => wg.tensor(Array.from({ length: 16 }, (_, i) => i), { shape: [1, 1, 4, 4] });
const kernel = () => wg.ones([1, 1, 2, 2]);

describe('conv', () => {
  it("conv2d { padding: 1, dilations: 2 } is refused: dilations → dilation", () => {
    expectError(() => wg.conv2d(img(), kernel(), null, { padding: 1, dilations: 2 } as any), wg.ValueError,
      'conv2d', "unknown option 'dilations'", "Did you mean 'dilation'?",
      "valid keys: 'stride', 'padding', 'dilation', 'groups'");
    expectError(() => img().conv2d(kernel(), null, { dilations: 2 } as any), wg.ValueError, 'conv2d', "Did you mean 'dilation'?");
    expectError(() => wg.conv1d(wg.ones([1, 1, 4]), wg.ones([1, 1, 2]), null, { padding_mode: 'zeros' } as any), wg.ValueError,
      'conv1d', "'padding_mode'");
    expectError(() => wg.convTranspose2d(img(), kernel(), null, { output_padding: 1 } as any), wg.ValueError,
      'convTranspose2d', "Did you mean 'outputPadding'?");
    expectError(() => wg.dltranspconv(img(), kernel(), null, { strides: 2 } as any), wg.ValueError,
      'dltranspconv', "Did you mean 'stride'?");
  });

  it('the right key still works: dilation 2 differs from dilation 1', () => {
    wg.tidy(() => {
      const dilated = wg.conv2d(img(), kernel(), null, { padding: 1, dilation: 2 });
      const plain = wg.conv2d(img(), kernel(), null, { padding: 1 });
      expect(dilated.shape).toEqual([1, 1, 4, 4]);
      expect(plain.shape).toEqual([1, 1, 5, 5]);
    });
  });

  it('extra arguments are refused', () => {
    expectError(() => (wg.conv2d as any)(img(), kernel(), null, { padding: 1 }, { groups: 1 }), wg.ValueError,
      'conv2d', 'at most 4 arguments (x, weight, bias?, options?)', 'got 5');
    expectError(() => (img() as any).conv2d(kernel(), null, {}, 2), wg.ValueError, 'conv2d', 'at most 3 arguments');
  });
});

describe('pool', () => {
  it('maxPool2d { ceil_mode: true } is refused: ceil_mode → ceilMode', () => {
    const x = () => wg.ones([1, 1, 5, 5]);
    expectError(() => wg.maxPool2d(x(), 2, { ceil_mode: true } as any), wg.ValueError,
      'maxPool2d', "unknown option 'ceil_mode'", "Did you mean 'ceilMode'?",
      "valid keys: 'stride', 'padding', 'dilation', 'ceilMode', 'returnIndices'");
    expectError(() => x().maxPool2d(2, { return_indices: true } as any), wg.ValueError, 'maxPool2d', "Did you mean 'returnIndices'?");
    expectError(() => wg.avgPool2d(x(), 2, { count_include_pad: false } as any), wg.ValueError,
      'avgPool2d', "Did you mean 'countIncludePad'?");
    expectError(() => wg.maxPool1d(wg.ones([1, 1, 5]), 2, { ceilmode: true } as any), wg.ValueError,
      'maxPool1d', "Did you mean 'ceilMode'?");
  });

  it('avgPool1d has no divisorOverride (2-D only, as PyTorch): the key is named, not applied', () => {
    expectError(() => wg.avgPool1d(wg.ones([1, 1, 4]), 2, { divisorOverride: 4 } as any), wg.ValueError,
      'avgPool1d', "unknown option 'divisorOverride'", "valid keys: 'stride', 'padding', 'ceilMode', 'countIncludePad'");
  });

  it('maxUnpool2d { output_size } is refused', () => {
    expectError(() => {
      const [v, i] = wg.maxPool2d(wg.ones([1, 1, 4, 4]), 2, { returnIndices: true });
      wg.maxUnpool2d(v, i, 2, { output_size: [4, 4] } as any);
    }, wg.ValueError, 'maxUnpool2d', "Did you mean 'outputSize'?");
  });

  it('the right key still works: ceilMode changes the output size', () => {
    wg.tidy(() => {
      expect(wg.maxPool2d(wg.ones([1, 1, 5, 5]), 2, { ceilMode: true }).shape).toEqual([1, 1, 3, 3]);
      expect(wg.maxPool2d(wg.ones([1, 1, 5, 5]), 2).shape).toEqual([1, 1, 2, 2]);
    });
  });

  it('extra arguments are refused', () => {
    expectError(() => (wg.maxPool2d as any)(wg.ones([1, 1, 4, 4]), 2, {}, 2), wg.ValueError,
      'maxPool2d', 'at most 3 arguments (x, kernelSize, options?)', 'argument 4 is the number 2');
    // PyTorch's positional stride lands in the options' place: refused as not an object.
    expectError(() => (wg.maxPool2d as any)(wg.ones([1, 1, 4, 4]), 2, 2), wg.ValueError,
      'maxPool2d', 'options must be an object', 'got the number 2');
    expectError(() => (wg.ones([1, 1, 4, 4]) as any).avgPool2d(2, {}, 1), wg.ValueError, 'avgPool2d', 'at most 2 arguments');
  });
});

describe('indexing', () => {
  const x = () => wg.tensor([[3, 1, 2], [0, 5, 4]]);

  it('sort / argsort / topk with a misspelt key are refused', () => {
    expectError(() => wg.sort(x(), { descend: true } as any), wg.ValueError,
      'sort', "unknown option 'descend'", "Did you mean 'descending'?", "valid keys: 'axis', 'descending', 'stable'");
    expectError(() => x().argsort({ dim: 0 } as any), wg.ValueError, 'argsort', "unknown option 'dim'");
    expectError(() => wg.topk(x(), 1, { dim: 0 } as any), wg.ValueError,
      'topk', "unknown option 'dim'", "valid keys: 'axis', 'largest', 'sorted'");
    expectError(() => x().topk(1, { Largest: false } as any), wg.ValueError, 'topk', "Did you mean 'largest'?");
    expectError(() => wg.argmax(x(), 1, { keepdim: true } as any), wg.ValueError, 'argmax', "Did you mean 'keepdims'?");
    expectError(() => wg.cumsum(x(), 1, { dType: 'float64' } as any), wg.ValueError, 'cumsum', "Did you mean 'dtype'?");
    expectError(() => wg.embedding([0], x(), { padding_idx: 0 } as any), wg.ValueError, 'embedding', "Did you mean 'paddingIdx'?");
  });

  it('the right key still works: descending sorts high to low', () => {
    wg.tidy(() => {
      const [values] = wg.sort(x(), { descending: true });
      expect(values.toArray()).toEqual([[3, 2, 1], [5, 4, 0]]);
      const [top] = wg.topk(x(), 1, { axis: 0, largest: false });
      expect(top.toArray()).toEqual([[0, 1, 2]]);
    });
  });

  it('extra arguments are refused (gather has no options: sparse_grad is an extra argument)', () => {
    expectError(() => (wg.gather as any)(x(), 1, [[0], [1]], { sparseGrad: true }), wg.ValueError,
      'gather', 'at most 3 arguments (x, axis, index)', 'argument 4 is an object');
    expectError(() => (x() as any).gather(1, [[0], [1]], { sparseGrad: true }), wg.ValueError, 'gather', 'at most 2 arguments');
    expectError(() => (wg.topk as any)(x(), 1, -1, true), wg.ValueError, 'topk', 'at most 3 arguments (x, k, options?)');
    expectError(() => (x() as any).sort(-1, true), wg.ValueError, 'sort', 'at most 1 argument (options?)');
    expectError(() => (wg.argmax as any)(x(), 1, {}, true), wg.ValueError, 'argmax', 'at most 3 arguments');
    expectError(() => (wg.tril as any)(x(), 0, 1), wg.ValueError, 'tril', 'at most 2 arguments (x, diagonal?)');
    expectError(() => (wg.oneHot as any)([0, 1], 2, 'int32'), wg.ValueError, 'oneHot', 'at most 2 arguments');
  });
});

describe('linear algebra', () => {
  const a = () => wg.tensor([[4, 1], [1, 3]], { dtype: 'float64' });

  it('misspelt keys are refused', () => {
    expectError(() => wg.matmulT(a(), a(), { transposeB: true } as any), wg.ValueError, 'matmulT', "unknown option 'transposeB'");
    expectError(() => wg.matmulT(a(), a(), { trans_b: true } as any), wg.ValueError, 'matmulT', "Did you mean 'transB'?");
    expectError(() => wg.norm(a(), 2, { dim: 0 } as any), wg.ValueError, 'norm', "unknown option 'dim'", "valid keys: 'axes', 'keepdims'");
    expectError(() => wg.vectorNorm(a(), 2, { axis: 0 } as any), wg.ValueError, 'vectorNorm', "Did you mean 'axes'?");
    expectError(() => a().matrixNorm('fro', { keepdim: true } as any), wg.ValueError, 'matrixNorm', "Did you mean 'keepdims'?");
    expectError(() => wg.cholesky(a(), { lower: false } as any), wg.ValueError, 'cholesky', "unknown option 'lower'", "valid keys: 'upper'");
    expectError(() => wg.qr(a(), { Mode: 'complete' } as any), wg.ValueError, 'qr', "Did you mean 'mode'?");
    expectError(() => wg.solve(a(), a(), { Left: false } as any), wg.ValueError, 'solve', "Did you mean 'left'?");
    expectError(() => wg.solveTriangular(a(), a(), { upper: true, unit_triangular: true } as any), wg.ValueError,
      'solveTriangular', "Did you mean 'unitriangular'?");
  });

  it('the right key still works: cholesky upper gives the transpose of lower', () => {
    wg.tidy(() => {
      const l = wg.cholesky(a()), u = wg.cholesky(a(), { upper: true });
      expect(flat(u.toArray())).toEqual(flat(wg.transpose(l).toArray()));
    });
  });

  it('extra arguments are refused', () => {
    expectError(() => (wg.norm as any)(a(), 2, {}, true), wg.ValueError, 'norm', 'at most 3 arguments (x, ord?, options?)');
    expectError(() => (wg.matmulT as any)(a(), a(), false, true), wg.ValueError, 'matmulT', 'at most 3 arguments', 'argument 4 is the boolean true');
    expectError(() => (a() as any).cholesky({}, true), wg.ValueError, 'cholesky', 'at most 1 argument (options?)');
    expectError(() => (wg.diag as any)(a(), 0, 1), wg.ValueError, 'diag', 'at most 2 arguments');
  });
});

describe('shape', () => {
  const x = () => wg.tensor([[1, 2], [3, 4]]);

  it('indexAdd { Alpha } is refused', () => {
    expectError(() => wg.indexAdd(x(), 0, [0], wg.ones([1, 2]), { Alpha: 2 } as any), wg.ValueError,
      'indexAdd', "unknown option 'Alpha'", "Did you mean 'alpha'?");
  });

  it('extra arguments are refused; x.pad passes its mode on instead of dropping it', () => {
    expectError(() => (wg.flatten as any)(x(), 0, 1, 2), wg.ValueError, 'flatten', 'at most 3 arguments (x, startDim?, endDim?)');
    expectError(() => (x() as any).flatten(0, 1, 2), wg.ValueError, 'flatten', 'at most 2 arguments');
    expectError(() => (wg.concat as any)([x(), x()], 0, 1), wg.ValueError, 'concat', 'at most 2 arguments (tensors, axis?)');
    expectError(() => (wg.split as any)(x(), 1, 0, 1), wg.ValueError, 'split', 'at most 3 arguments');
    expectError(() => (x() as any).pad([1, 1], 0, 'symmetric'), wg.ValueError, 'pad: mode must be one of', 'symmetric');
    expect((x() as any).pad([1, 1], 0, 'reflect').shape).toEqual([x().shape[0], x().shape[1] + 2]);
    expectError(() => (wg.pad as any)(x(), [1, 1], 0, 'constant', 1), wg.ValueError, 'pad', 'at most 4 arguments');
  });

  it('trailing undefined arguments (a wrapper passing its own) are fine', () => {
    wg.tidy(() => {
      expect((wg.flatten as any)(x(), 0, -1, undefined).shape).toEqual([4]);
      expect((x() as any).transpose(undefined, undefined, undefined).shape).toEqual([2, 2]);
    });
  });
});

describe('creation and random', () => {
  it("tensor([1, 2], { dtype: 'float64', requiresGrad: true }) is refused, naming requiresGrad", () => {
    expectError(() => wg.tensor([1, 2], { dtype: 'float64', requiresGrad: true } as any), wg.ValueError,
      'tensor', "unknown option 'requiresGrad'", "valid keys: 'dtype', 'shape'");
    expectError(() => wg.dlarray([1, 2], { dtyp: 'float64' } as any), wg.ValueError, 'tensor', "Did you mean 'dtype'?");
    expectError(() => wg.zeros([2], { type: 'int32' } as any), wg.ValueError, 'zeros', "unknown option 'type'");
    expectError(() => wg.full([2], 1, { dType: 'int32' } as any), wg.ValueError, 'full', "Did you mean 'dtype'?");
    expectError(() => wg.arange(0, 4, { dtyp: 'float64' } as any), wg.ValueError, 'arange', "Did you mean 'dtype'?");
    expectError(() => wg.eye(2, { device: 'cpu' } as any), wg.ValueError, 'eye', "unknown option 'device'");
    expectError(() => wg.linspace(0, 1, 3, { requires_grad: true } as any), wg.ValueError, 'linspace', "'requires_grad'");
    expectError(() => wg.zerosLike(wg.ones([2]), { Dtype: 'int32' } as any), wg.ValueError, 'zerosLike', "Did you mean 'dtype'?");
  });

  it('rand / randn / uniform / normal name an unknown key (seed is one of theirs and works)', () => {
    expectError(() => wg.rand([2], { generator: 1 } as any), wg.ValueError,
      'rand', "unknown option 'generator'", "valid keys: 'dtype', 'seed'");
    expectError(() => wg.randn([2], { seeds: 1 } as any), wg.ValueError, 'randn', "Did you mean 'seed'?");
    expectError(() => wg.uniform([2], 0, 1, { requiresGrad: true } as any), wg.ValueError, 'uniform', "'requiresGrad'");
    expectError(() => wg.normal([2], 0, 1, { Seed: 3 } as any), wg.ValueError, 'normal', "Did you mean 'seed'?");
    wg.tidy(() => {
      expect(flat(wg.rand([3], { seed: 1 }).toArray())).toEqual(flat(wg.rand([3], { seed: 1 }).toArray()));
    });
  });

  it('extra arguments are refused', () => {
    expectError(() => (wg.rand as any)([2], {}, 5), wg.ValueError, 'rand', 'at most 2 arguments (shape, options?)');
    expectError(() => (wg.uniform as any)([2], 0, 1, {}, 7), wg.ValueError, 'uniform', 'at most 4 arguments');
    expectError(() => (wg.tensor as any)([1, 2], { dtype: 'int32' }, [2]), wg.ValueError, 'tensor', 'at most 2 arguments (data, options?)');
    expectError(() => (wg.zeros as any)([2], 'int32'), wg.ValueError, 'zeros', 'options must be an object');
    expectError(() => (wg.ones as any)([2], {}, 'float64'), wg.ValueError, 'ones', 'at most 2 arguments');
    // eye(n, options): options in m's place, so a third argument would be dropped.
    expectError(() => (wg.eye as any)(2, { dtype: 'float64' }, { dtype: 'int32' }), wg.ValueError, 'eye', 'at most 2 arguments (n, options?)');
  });
});
