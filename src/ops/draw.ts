// Integer draws from wasmgrad's seeded generator (src/random.ts, in wasm): randint
// (torch.randint) and multinomial (torch.multinomial). Built from recording-free ops on uniform
// draws, so the same seed gives the same integers on every engine. The generator is not
// PyTorch's: the values differ from torch's, the distributions are the same.

import { Tensor, type Shape } from '../tensor.js';
import { ValueError, DTypeError, ShapeError, formatShape } from '../errors.js';
import { tidy } from '../scope.js';
import { idOf, isFloat, requireInit } from './common.js';
import { add, mul, le, minimum, cast, where, eq } from './elementwise.js';
import { sum } from './reduce.js';
import { unsqueeze, concat } from './shape.js';
import { cumsum, oneHot } from './indexing.js';
import { rand } from '../random.js';
import { options, opt, checkArity, describeValue, type OptionsOf } from '../options.js';
import { checkShape } from '../sizes.js';

const RANDINT = options('randint', {
  /** 'int32' (default; PyTorch's default is int64, which wasmgrad does not have) or a float dtype */
  dtype: opt.oneOf('int32', 'float32', 'float64'),
});
/** Options of randint: dtype, 'int32' (default), 'float32' or 'float64'. */
export type RandintOptions = OptionsOf<typeof RANDINT>;

const MULTINOMIAL = options('multinomial', {
  /** draw with replacement (default false: each category at most once per row, as PyTorch) */
  replacement: opt.boolean,
});
/** Options of multinomial: replacement (default false: each category at most once per row). */
export type MultinomialOptions = OptionsOf<typeof MULTINOMIAL>;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/**
 * torch.randint: integers drawn uniformly from [low, high) with the given shape, as
 * `randint(high, shape)` or `randint(low, high, shape)`, from the seeded generator.
 */
export function randint(...args: [number, Shape | number, RandintOptions?] | [number, number, Shape | number, RandintOptions?]): Tensor {
  requireInit('randint');
  const threeNumbers = typeof args[1] === 'number' && (typeof args[2] === 'number' || Array.isArray(args[2]));
  const [low, high, shapeIn, opts] = threeNumbers
    ? [args[0], args[1] as number, args[2] as Shape | number, args[3] as RandintOptions | undefined]
    : [0, args[0], args[1] as Shape | number, args[2] as RandintOptions | undefined];
  if (args.length > (threeNumbers ? 4 : 3)) checkArity('randint', args, threeNumbers ? 4 : 3, 'low?, high, shape, { dtype }');
  const o = RANDINT.parse(opts);
  if (!isInt(low) || !isInt(high)) throw new ValueError(`randint: low and high must be integers, got ${describeValue(low)} and ${describeValue(high)}`);
  if (!(high > low)) throw new ValueError(`randint: high (${high}) must be greater than low (${low})`);
  if (low < -(2 ** 31) || high > 2 ** 31) throw new ValueError(`randint: [${low}, ${high}) must lie within int32`);
  const shape = checkShape('randint', typeof shapeIn === 'number' ? [shapeIn] : shapeIn, 'shape');
  const dtype = o.dtype ?? 'int32';
  return tidy(() => {
    // ⌊u·(high − low)⌋ + low for u in [0, 1) drawn in float64: the product is >= 0, so the cast's
    // truncation is the floor, and it stays below high − low.
    // (Arithmetic on int32 promotes to float, so low is added in float64, exact for int32 values.)
    const u = rand(shape, { dtype: 'float64' });
    const k = cast(mul(u, high - low), 'int32');
    const v = low === 0 ? k : cast(add(cast(k, 'float64'), low), 'int32');
    return dtype === 'int32' ? v : cast(v, dtype);
  });
}

/**
 * torch.multinomial: for each row of non-negative weights `input` ([C] or [N, C]), `numSamples`
 * category indices drawn with probabilities proportional to the weights (int32, [numSamples] or
 * [N, numSamples]). Without replacement (the default) every category is drawn at most once per
 * row, so numSamples must not exceed the categories with non-zero weight.
 */
export function multinomial(input: Tensor, numSamples: number, opts?: MultinomialOptions): Tensor {
  if (arguments.length > 3) checkArity('multinomial', arguments, 3, 'input, numSamples, { replacement }');
  requireInit('multinomial');
  const o = MULTINOMIAL.parse(opts);
  idOf(input, 'multinomial (input)');
  if (!isFloat(input.dtype)) throw new DTypeError(`multinomial: input must be float32 or float64 weights, got ${input.dtype} ${formatShape(input.dims)}`);
  if (input.rank !== 1 && input.rank !== 2) throw new ShapeError(`multinomial: input must be 1-D [C] or 2-D [N, C], got shape ${formatShape(input.dims)}`);
  if (!isInt(numSamples) || numSamples < 1) throw new ValueError(`multinomial: numSamples must be an integer >= 1, got ${describeValue(numSamples)}`);
  const replacement = o.replacement ?? false;
  const C = input.dims[input.rank - 1];
  const rows = input.rank === 1 ? 1 : input.dims[0];
  // PyTorch's checks on the distribution: finite, non-negative, a positive sum per row.
  const w = Array.from(input.data() as Float32Array | Float64Array);
  for (let r = 0; r < rows; r++) {
    let total = 0, positive = 0;
    for (let c = 0; c < C; c++) {
      const v = w[r * C + c];
      if (!Number.isFinite(v) || v < 0) throw new ValueError(`multinomial: invalid distribution: weight ${v} at row ${r}, category ${c} (weights must be finite and >= 0)`);
      total += v;
      if (v > 0) positive++;
    }
    if (!(total > 0)) throw new ValueError(`multinomial: invalid distribution: row ${r} sums to 0`);
    if (!replacement && numSamples > positive) {
      throw new ValueError(`multinomial: cannot draw ${numSamples} samples without replacement from row ${r}, which has ${positive} categories with non-zero weight`);
    }
  }
  return tidy(() => {
    const weights2 = input.rank === 1 ? unsqueeze(input, 0) : input; // [N, C]
    // One draw per row from weights v: the index is the number of cumulative weights <= u·Σv.
    const drawOne = (v: Tensor, samples: number): Tensor => {
      const cdf = cumsum(v, 1); // [N, C]
      const total = sum(v, 1, { keepdims: true }); // [N, 1]
      const u = mul(rand([rows, samples], { dtype: v.dtype }), total); // [N, S]
      const below = le(unsqueeze(cdf, 1), unsqueeze(u, 2)); // [N, S, C]
      const count = sum(cast(below, v.dtype), 2); // [N, S]
      return cast(minimum(count, C - 1), 'int32');
    };
    let out: Tensor;
    if (replacement) {
      out = drawOne(weights2, numSamples);
    } else {
      let v = weights2;
      const picks: Tensor[] = [];
      for (let s = 0; s < numSamples; s++) {
        const pick = drawOne(v, 1); // [N, 1]
        picks.push(pick);
        // the drawn category's weight becomes 0 for the next draws
        const chosen = eq(sum(oneHot(pick, C), 1), 1); // [N, C]
        v = where(chosen, 0, v);
      }
      out = picks.length === 1 ? picks[0] : concat(picks, 1);
    }
    return input.rank === 1 ? out.reshape([numSamples]) : out;
  });
}
