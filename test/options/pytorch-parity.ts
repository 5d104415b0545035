// Option cases for the PyTorch-parity ops: interpolate, upsample, affineGrid, gridSample,
// bucketize, searchsorted. interpolate and upsample need a size or a scaleFactor: the case
// supplies one and adds the options under test.
import * as wg from '../../src/index.js';
import type { OptionCase } from './types.js';

const img = () => wg.ones([1, 1, 2, 2]);
const withSize = (o: any) => (o === undefined ? { size: 3 } : { size: 3, ...o });

export const cases: OptionCase[] = [
  { name: 'interpolate', call: (o) => wg.interpolate(img(), withSize(o)) },
  { name: 'upsample', call: (o) => wg.upsample(img(), withSize(o)) },
  { name: 'affineGrid', call: (o) => wg.affineGrid(wg.zeros([1, 2, 3]), [1, 1, 2, 2], o) },
  { name: 'gridSample', call: (o) => wg.gridSample(img(), wg.zeros([1, 2, 2, 2]), o) },
  { name: 'bucketize', call: (o) => wg.bucketize(wg.tensor([0.5, 2]), wg.tensor([0, 1]), o) },
  { name: 'searchsorted', call: (o) => wg.searchsorted(wg.tensor([0, 1]), wg.tensor([0.5, 2]), o) },
];
