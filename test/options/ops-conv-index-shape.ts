// Option cases for convolution, pooling, indexing, matrix products, norms, decompositions,
// indexAdd, creation and random tensors: each calls its function with valid arguments and the
// given options.
import * as wg from '../../src/index.js';
import type { OptionCase } from './types.js';

const img = () => wg.ones([1, 1, 4, 4]);
const vol = () => wg.ones([1, 1, 3, 4, 4]);
const seq = () => wg.ones([1, 1, 4]);
const m = () => wg.tensor([[2, 1], [1, 3]]);
const v = () => wg.tensor([[3, 1, 2], [0, 5, 4]]);

export const cases: OptionCase[] = [
  { name: 'conv1d', call: (o) => wg.conv1d(seq(), wg.ones([1, 1, 2]), null, o) },
  { name: 'conv2d', call: (o) => wg.conv2d(img(), wg.ones([1, 1, 2, 2]), null, o) },
  { name: 'convTranspose1d', call: (o) => wg.convTranspose1d(seq(), wg.ones([1, 1, 2]), null, o) },
  { name: 'convTranspose2d', call: (o) => wg.convTranspose2d(img(), wg.ones([1, 1, 2, 2]), null, o) },
  { name: 'dltranspconv', call: (o) => wg.dltranspconv(img(), wg.ones([1, 1, 2, 2]), null, o) },
  { name: 'maxPool1d', call: (o) => wg.maxPool1d(seq(), 2, o) },
  { name: 'maxPool2d', call: (o) => wg.maxPool2d(img(), 2, o) },
  { name: 'avgPool1d', call: (o) => wg.avgPool1d(seq(), 2, o) },
  { name: 'avgPool2d', call: (o) => wg.avgPool2d(img(), 2, o) },
  { name: 'conv3d', call: (o) => wg.conv3d(vol(), wg.ones([1, 1, 2, 2, 2]), null, o) },
  { name: 'convTranspose3d', call: (o) => wg.convTranspose3d(vol(), wg.ones([1, 1, 2, 2, 2]), null, o) },
  { name: 'maxPool3d', call: (o) => wg.maxPool3d(vol(), 2, o) },
  { name: 'avgPool3d', call: (o) => wg.avgPool3d(vol(), 2, o) },
  { name: 'adaptiveMaxPool1d', call: (o) => wg.adaptiveMaxPool1d(seq(), 2, o) },
  { name: 'adaptiveMaxPool2d', call: (o) => wg.adaptiveMaxPool2d(img(), 2, o) },
  { name: 'adaptiveMaxPool3d', call: (o) => wg.adaptiveMaxPool3d(vol(), 2, o) },
  {
    name: 'maxUnpool2d',
    call: (o) => {
      const [values, indices] = wg.maxPool2d(img(), 2, { returnIndices: true });
      return wg.maxUnpool2d(values, indices, 2, o);
    },
  },
  { name: 'sort', call: (o) => wg.sort(v(), o) },
  { name: 'argsort', call: (o) => wg.argsort(v(), o) },
  { name: 'topk', call: (o) => wg.topk(v(), 2, o) },
  { name: 'argmax', call: (o) => wg.argmax(v(), 1, o) },
  { name: 'argmin', call: (o) => wg.argmin(v(), 1, o) },
  { name: 'cumsum', call: (o) => wg.cumsum(v(), 1, o) },
  { name: 'cumprod', call: (o) => wg.cumprod(v(), 1, o) },
  { name: 'embedding', call: (o) => wg.embedding([0, 1], v(), o) },
  { name: 'matmulT', call: (o) => wg.matmulT(m(), m(), o) },
  { name: 'norm', call: (o) => wg.norm(v(), null, o) },
  { name: 'vectorNorm', call: (o) => wg.vectorNorm(v(), 2, o) },
  { name: 'matrixNorm', call: (o) => wg.matrixNorm(v(), 'fro', o) },
  { name: 'solve', call: (o) => wg.solve(m(), m(), o) },
  { name: 'cholesky', call: (o) => wg.cholesky(m(), o) },
  { name: 'qr', call: (o) => wg.qr(m(), o) },
  { name: 'svd', call: (o) => wg.svd(m(), o) },
  { name: 'eigh', call: (o) => wg.eigh(m(), o) },
  { name: 'eigvalsh', call: (o) => wg.eigvalsh(m(), o) },
  { name: 'pinv', call: (o) => wg.pinv(m(), o) },
  { name: 'lstsq', call: (o) => wg.lstsq(m(), m(), o) },
  // upper is required: the case supplies it and adds the options under test.
  { name: 'solveTriangular', call: (o) => wg.solveTriangular(m(), m(), o === undefined ? { upper: true } : { upper: true, ...o }) },
  { name: 'indexAdd', call: (o) => wg.indexAdd(v(), 0, [1], wg.ones([1, 3]), o) },
  { name: 'tensor', call: (o) => wg.tensor([1, 2], o) },
  { name: 'full', call: (o) => wg.full([2], 3, o) },
  { name: 'zeros', call: (o) => wg.zeros([2], o) },
  { name: 'ones', call: (o) => wg.ones([2], o) },
  { name: 'arange', call: (o) => (o === undefined ? wg.arange(0, 3) : wg.arange(0, 3, o)) },
  { name: 'linspace', call: (o) => wg.linspace(0, 1, 3, o) },
  { name: 'eye', call: (o) => wg.eye(2, 3, o) },
  { name: 'fullLike', call: (o) => wg.fullLike(v(), 7, o) },
  { name: 'zerosLike', call: (o) => wg.zerosLike(v(), o) },
  { name: 'onesLike', call: (o) => wg.onesLike(v(), o) },
  { name: 'rand', call: (o) => wg.rand([2], o) },
  { name: 'randn', call: (o) => wg.randn([2], o) },
  { name: 'uniform', call: (o) => wg.uniform([2], 0, 1, o) },
  { name: 'normal', call: (o) => wg.normal([2], 0, 1, o) },
];
