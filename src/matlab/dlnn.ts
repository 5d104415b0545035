// MATLAB's deep-learning functions on formatted dlarrays (Deep Learning Toolbox, "dlarray
// functions"): fullyconnect, dlconv, dltranspconv, maxpool, avgpool, batchnorm, crosschannelnorm,
// softmax. Each reads the labels of a formatted X (or of the DataFormat option for an unformatted
// X), moves the data to the PyTorch layout the kernels use, and returns a formatted result (with
// DataFormat: an unformatted one whose dims follow DataFormat's order).
//
// Weights follow MATLAB's layouts: fullyconnect [outputSize, inputSize] (or [outputSize, …the S, C
// and U dims of X]); dlconv [filter dims…, numChannels, numFilters] (grouped: [filter dims…,
// channelsPerGroup, filtersPerGroup, numGroups]); dltranspconv [filter dims…, numFilters,
// numChannels]. Options are one object or MATLAB's name-value pairs ('Stride', 2, …), names
// matched case-insensitively.
//
// Copies: permute copies in wasmgrad (there are no views), so a function whose kernel needs
// another layout permutes the data in and the result out (dlconv, dltranspconv, maxpool,
// avgpool, batchnorm, crosschannelnorm: one copy each way, none when the data is already in the
// kernel's order). fullyconnect needs none for S…S C B (T) data: it is one matrix product
// W·X[K, M] in MATLAB's own layout; softmax none at all (it works along the 'C' dim in place).
//
// Unformatted X without DataFormat: fullyconnect, dltranspconv, crosschannelnorm and softmax keep
// wasmgrad's PyTorch-layout behaviour (linear, convTranspose2d, localResponseNorm, softmax over an
// axis); dlconv, maxpool, avgpool and batchnorm (new names) need a format.

import { Tensor, setFormat } from '../tensor.js';
import { ShapeError, ValueError, formatShape } from '../errors.js';
import { options, opt, checkArity, describeValue, type OptionSchema, type SpecMap } from '../options.js';
import { requireInit } from '../runtime.js';
import { tidy } from '../scope.js';
import { reshape, narrow, pad } from '../ops/shape.js';
import { matmul } from '../ops/matmul.js';
import { add, mul } from '../ops/elementwise.js';
import { mean, variance } from '../ops/reduce.js';
import * as Lin from '../ops/nn-linear.js';
import * as Conv from '../ops/conv.js';
import * as Pool from '../ops/pool.js';
import * as Norm from '../ops/norm.js';
import * as Act from '../ops/activation.js';
import { applyFormat, checkFormat, toOrder, fromOrder, dimsOf, labelName, place } from './format.js';

// ————————————————————————————————————————————————————————— arguments

/**
 * The options after the positional arguments: nothing, one object, or MATLAB's name-value pairs.
 * Names given as pairs are matched to the schema's keys case-insensitively (as MATLAB); keys of an
 * object must be exact (as every wasmgrad options object). An unknown name is left for the schema
 * to reject with the nearest key.
 */
function parseRest<M extends SpecMap>(fn: string, schema: OptionSchema<M>, rest: readonly unknown[]) {
  let n = rest.length;
  while (n > 0 && rest[n - 1] === undefined) n--;
  if (n === 0) return schema.parse(undefined, fn);
  let raw: unknown;
  if (n === 1) {
    if (typeof rest[0] === 'string') {
      throw new ValueError(`${fn}: option '${rest[0]}' has no value (options are one object or MATLAB name-value pairs)`);
    }
    raw = rest[0];
  } else {
    if (n % 2 !== 0) throw new ValueError(`${fn}: name-value arguments come in pairs; ${describeValue(rest[n - 1])} has no value`);
    const pairs: Record<string, unknown> = {};
    for (let k = 0; k < n; k += 2) {
      if (typeof rest[k] !== 'string') {
        throw new ValueError(`${fn}: expected an option name, got ${describeValue(rest[k])} (options are one object or MATLAB name-value pairs)`);
      }
      const name = rest[k] as string;
      const key = schema.keys.find((o) => o === name) ?? schema.keys.find((o) => o.toLowerCase() === name.toLowerCase()) ?? name;
      if (Object.prototype.hasOwnProperty.call(pairs, key)) throw new ValueError(`${fn}: option '${key}' is given twice`);
      pairs[key] = rest[k + 1];
    }
    raw = pairs;
  }
  return schema.parse(raw, fn);
}

const isFormatted = (x: unknown): boolean => x instanceof Tensor && x._format !== undefined;

function tensorArg(op: string, x: unknown, what: string): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError(`${op}: ${what} must be a Tensor (a dlarray), got ${describeValue(x)}`);
  x.use(`${op} (${what})`);
  return x;
}

/** X formatted: X itself. X unformatted with DataFormat: X labelled by it (a new tensor). */
function formatted(op: string, X: Tensor, dataFormat: string | undefined): Tensor {
  if (X._format !== undefined) {
    if (dataFormat !== undefined) {
      throw new ValueError(`${op}: X is already formatted ('${X._format}'); DataFormat ('${dataFormat}') is for unformatted X ` +
        '(use stripdims(X) first to relabel it)');
    }
    return X;
  }
  if (dataFormat === undefined) {
    throw new ValueError(`${op}: X is unformatted (shape ${formatShape(X.dims)}); label it with dlarray(X, fmt) or give the ` +
      "DataFormat option (e.g. { DataFormat: 'SSCB' })");
  }
  return applyFormat(op, X, checkFormat(op, dataFormat, 'DataFormat'), false, 'DataFormat');
}

/**
 * The result Y (formatted) as the caller gets it: Y itself for formatted input; for input given
 * with DataFormat, unformatted with its dims in DataFormat's order (labels the op removed are
 * skipped, labels it added come at the end in canonical order).
 */
function finish(op: string, Y: Tensor, dataFormat: string | undefined): Tensor {
  if (dataFormat === undefined) return Y;
  const fmt = Y._format!;
  const left = [...fmt];
  let order = '';
  for (const l of dataFormat) {
    const k = left.indexOf(l);
    if (k >= 0) { order += l; left.splice(k, 1); }
  }
  order += left.join('');
  const r = toOrder(op, Y, order, 'the result');
  if (r === Y) return setFormat(Y, undefined);
  Y.dispose();
  return setFormat(r, undefined);
}

const prod = (ds: readonly number[]): number => ds.reduce((a, b) => a * b, 1);

/** t with the given dims: t itself when it has them already (a reshape would copy). */
const shaped = (t: Tensor, dims: readonly number[]): Tensor =>
  (t.rank === dims.length && t.dims.every((d, k) => d === dims[k]) ? t : reshape(t, dims));

function sizes(op: string, name: string, v: unknown, nd: number, dflt: number, min: number): number[] {
  if (v === undefined) return new Array<number>(nd).fill(dflt);
  const list = typeof v === 'number' ? new Array<number>(nd).fill(v) : Array.isArray(v) ? [...v] : undefined;
  if (list === undefined || list.length !== nd || list.some((d) => !Number.isInteger(d) || d < min)) {
    throw new ValueError(`${op}: ${name} must be ${min === 1 ? 'a positive' : 'a non-negative'} integer or ${nd} of them ` +
      `(one per spatial dim), got ${describeValue(v)}${Array.isArray(v) ? ` [${v.join(', ')}]` : ''}`);
  }
  return list;
}

/**
 * MATLAB's Padding (or Cropping) for `nd` spatial dims: 0, a number (all sides), one number per
 * dim ([a b]: a at the top and bottom, b at the left and right), a 2-by-nd matrix [[t, l], [b, r]]
 * (first row the starts, second the ends), or 'same' (from `same`). Returns [starts, ends].
 */
function padding(op: string, name: string, v: unknown, nd: number, same: () => [number[], number[]]): [number[], number[]] {
  if (v === 'same') return same();
  if (Array.isArray(v) && v.length === 2 && Array.isArray(v[0]) && Array.isArray(v[1])) {
    return [sizes(op, `${name} (first row)`, v[0], nd, 0, 0), sizes(op, `${name} (second row)`, v[1], nd, 0, 0)];
  }
  if (typeof v === 'string') throw new ValueError(`${op}: ${name} must be 'same' or numbers, got '${v}'`);
  const s = sizes(op, name, v, nd, 0, 0);
  return [s, [...s]];
}

/** MATLAB's 'same' padding: output ceil(in / stride); the odd extra at the end (bottom, right). */
function samePadding(space: number[], kernel: number[], stride: number[], dilation: number[]): [number[], number[]] {
  const starts: number[] = [], ends: number[] = [];
  space.forEach((n, i) => {
    const out = Math.ceil(n / stride[i]);
    const total = Math.max((out - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 - n, 0);
    starts.push(Math.floor(total / 2));
    ends.push(total - Math.floor(total / 2));
  });
  return [starts, ends];
}

/** pad()'s list for the last `nd` dims: [last start, last end, …]. */
const padList = (starts: number[], ends: number[]): number[] => starts.flatMap((_, i) => [starts[starts.length - 1 - i], ends[ends.length - 1 - i]]);

const dataFormatSpec = {
  /** the format of an unformatted X ('SSCB', 'CB', 'BCSS', …): the result is unformatted, its dims in this order */
  DataFormat: opt.string,
};

// ————————————————————————————————————————————————————————— fullyconnect

const FULLYCONNECT = options('fullyconnect', { ...dataFormatSpec });

/**
 * MATLAB's fullyconnect(X, weights, bias): the weighted sum of X's 'S', 'C' and 'U' dims for each
 * 'B' and 'T' index, plus the bias. The result is formatted 'CB' ('CBT' with a time dim, 'C'
 * followed by whichever of B and T X has; 'CB' with a singleton B when X has neither). weights is
 * [outputSize, inputSize] with inputSize the product of the S, C and U dims — the row-major
 * flattening of those dims in X's (canonical) order — or [outputSize, …those dims], as MATLAB's
 * ones(outputSize, h, w, c). bias has outputSize elements (or is omitted / null).
 *
 * Unformatted X without DataFormat keeps wasmgrad's PyTorch layout: x [..., in], weights
 * [out, in], bias [out] (linear).
 */
export function fullyconnect(X: Tensor, weights: Tensor, bias?: Tensor | null, ...opts: unknown[]): Tensor {
  const op = 'fullyconnect';
  requireInit(op);
  const o = parseRest(op, FULLYCONNECT, opts);
  if (!isFormatted(X) && o.DataFormat === undefined) return Lin.fullyconnect(X, weights, bias);
  const x0 = tensorArg(op, X, 'X');
  const w = tensorArg(op, weights, 'weights');
  const b = bias === undefined || bias === null ? undefined : tensorArg(op, bias, 'bias');
  const out = tidy(() => {
    const x = formatted(op, x0, o.DataFormat);
    const fmt = x._format!;
    const contracted = [...fmt].filter((l) => l === 'S' || l === 'C' || l === 'U').join('');
    const kept = [...fmt].filter((l) => l === 'B' || l === 'T').join('');
    if (contracted.length === 0) {
      throw new ValueError(`${op}: X has format '${fmt}' with no 'S', 'C' or 'U' dim to connect`);
    }
    const xs = toOrder(op, x, contracted + kept, 'X');
    const cDims = xs.dims.slice(0, contracted.length), kDims = xs.dims.slice(contracted.length);
    const K = prod(cDims), M = prod(kDims);
    const outSize = w.rank >= 1 ? w.dims[0] : 0;
    const okW = w.rank === 2 ? w.dims[1] === K
      : w.rank === 1 + cDims.length && w.dims.slice(1).every((d, k) => d === cDims[k]);
    if (!okW) {
      throw new ShapeError(`${op}: weights has shape ${formatShape(w.dims)} but X (format '${fmt}', shape ${formatShape(x.dims)}) ` +
        `needs [outputSize, ${K}] (${K} = the product of its ${[...contracted].map(labelName).join(', ')} dims) or ` +
        `[outputSize, ${cDims.join(', ')}]`);
    }
    const w2 = w.rank === 2 ? w : reshape(w, [outSize, K]);
    let y = matmul(w2, shaped(xs, [K, M]));
    if (b !== undefined) {
      if (b.numel() !== outSize && b.numel() !== 1) {
        throw new ShapeError(`${op}: bias has shape ${formatShape(b.dims)} but weights has ${outSize} outputs; bias needs ${outSize} elements`);
      }
      y = add(y, reshape(b, b.numel() === 1 ? [1, 1] : [outSize, 1]));
    }
    const outFormat = kept.length === 0 ? 'CB' : `C${kept}`;
    return setFormat(shaped(y, [outSize, ...(kept.length === 0 ? [1] : kDims)]), outFormat);
  });
  return finish(op, out, o.DataFormat);
}

// ————————————————————————————————————————————————————————— convolution

const convSpecs = {
  ...dataFormatSpec,
  /** step between windows: one number or one per spatial dim (default 1) */
  Stride: opt.any<number | number[]>(),
  /** spacing between filter taps (default 1) */
  DilationFactor: opt.any<number | number[]>(),
};
const DLCONV = options('dlconv', {
  ...convSpecs,
  /** 0 (default), 'same', a number, one per dim, or [[top, left], [bottom, right]] */
  Padding: opt.any<number | number[] | number[][] | 'same'>(),
  /** the value padded in (default 0) */
  PaddingValue: opt.number,
});

interface ConvLayout { x: Tensor; order: string; lead: number[]; ns: number }

/**
 * X (formatted) as [N, C, S…] for the kernels: B and T fold into N (a 'T' dim is another batch
 * dim; MATLAB convolves over 'S' dims unless the weights say otherwise). 'U' dims are refused.
 */
function convLayout(op: string, x: Tensor, what: string): ConvLayout {
  const fmt = x._format!;
  const ns = dimsOf(fmt, 'S').length;
  if (ns < 1 || ns > 2) {
    throw new ValueError(`${op}: X has format '${fmt}' with ${ns} 'S' (spatial) dims; wasmgrad ${what} over 1 or 2 'S' dims`);
  }
  if (!fmt.includes('C')) throw new ValueError(`${op}: X has format '${fmt}' with no 'C' (channel) dim`);
  if (fmt.includes('U')) throw new ValueError(`${op}: X has format '${fmt}' with a 'U' (unspecified) dim; ${what} takes S, C, B and T dims`);
  const batch = [...fmt].filter((l) => l === 'B' || l === 'T').join('');
  const order = `${batch}C${'S'.repeat(ns)}`;
  const xs = toOrder(op, x, order, 'X');
  const lead = xs.dims.slice(0, batch.length);
  const x4 = shaped(xs, [prod(lead), ...xs.dims.slice(batch.length)]);
  return { x: x4, order, lead, ns };
}

/** The kernel's [N, F, S…] result back in X's labels (canonical order). */
function convResult(op: string, y: Tensor, L: ConvLayout): Tensor {
  return fromOrder(op, shaped(y, [...L.lead, ...y.dims.slice(1)]), L.order);
}

function biasVector(op: string, bias: unknown, F: number): Tensor | number | undefined {
  if (bias === undefined || bias === null || bias === 0) return undefined;
  if (typeof bias === 'number') return bias;
  const b = tensorArg(op, bias, 'bias');
  if (b.numel() === F) return b.rank === 1 ? b : reshape(b, [F]);
  if (b.numel() === 1) return b.rank === 0 ? b : reshape(b, []);
  throw new ShapeError(`${op}: bias has shape ${formatShape(b.dims)}; it needs ${F} elements (one per filter) or one`);
}

/**
 * MATLAB's filters [spatial…, a, b] (or [spatial…, a, b, groups]) as PyTorch's [groups·b, a,
 * spatial…], checked against X's C channels: for dlconv a is the channels (per group) and b the
 * filters, for dltranspconv (`transposed`) the other way round, so one permutation serves both.
 */
function torchFilters(op: string, w0: Tensor, ns: number, C: number, transposed: boolean): { w: Tensor; G: number; filters: number } {
  const names = transposed ? ['numFilters, numChannels', 'filtersPerGroup, channelsPerGroup'] : ['numChannels, numFilters', 'channelsPerGroup, filtersPerGroup'];
  if (w0.rank !== ns + 2 && w0.rank !== ns + 3) {
    const space = ns === 1 ? 'fl' : 'fh, fw';
    throw new ShapeError(`${op}: weights has shape ${formatShape(w0.dims)}; for ${ns} spatial dim${ns === 1 ? '' : 's'} it must be ` +
      `[${space}, ${names[0]}] or [${space}, ${names[1]}, numGroups]`);
  }
  const G = w0.rank === ns + 3 ? w0.dims[ns + 2] : 1;
  const a = w0.dims[ns], b = w0.dims[ns + 1];
  const [cg, fg] = transposed ? [b, a] : [a, b];
  if (cg * G !== C) {
    throw new ShapeError(`${op}: weights has shape ${formatShape(w0.dims)}: ${cg} channel${cg === 1 ? '' : 's'} per group × ${G} ` +
      `group${G === 1 ? '' : 's'} but X has ${C} channels ('C')`);
  }
  const spatial = Array.from({ length: ns }, (_, k) => k);
  const w = G === 1 && w0.rank === ns + 2
    ? w0.permute([ns + 1, ns, ...spatial])
    : reshape(w0.permute([ns + 2, ns + 1, ns, ...spatial]), [G * b, a, ...w0.dims.slice(0, ns)]);
  return { w, G, filters: fg };
}

/**
 * MATLAB's dlconv(X, weights, bias): the convolution of formatted X over its 'S' dims (1 or 2;
 * 'B' and 'T' dims are batches), giving the same format with 'C' of size numFilters. weights is
 * [filter dims…, numChannels, numFilters] (grouped: [filter dims…, channelsPerGroup,
 * filtersPerGroup, numGroups]); bias numFilters values, one value, or 0. Options (MATLAB's
 * names): Stride, DilationFactor, Padding (0, 'same', numbers, or [[top, left], [bottom, right]]),
 * PaddingValue (a number), DataFormat. Like MATLAB (and PyTorch), it computes the
 * cross-correlation (the filter is not flipped).
 */
export function dlconv(X: Tensor, weights: Tensor, bias?: Tensor | number | null, ...opts: unknown[]): Tensor {
  const op = 'dlconv';
  requireInit(op);
  const o = parseRest(op, DLCONV, opts);
  const x0 = tensorArg(op, X, 'X');
  const w0 = tensorArg(op, weights, 'weights');
  const out = tidy(() => {
    const L = convLayout(op, formatted(op, x0, o.DataFormat), 'convolves');
    const { ns } = L;
    const { w, G, filters: fg } = torchFilters(op, w0, ns, L.x.dims[1], false);
    const kernel = w0.dims.slice(0, ns);
    const stride = sizes(op, 'Stride', o.Stride, ns, 1, 1);
    const dilation = sizes(op, 'DilationFactor', o.DilationFactor, ns, 1, 1);
    const space = L.x.dims.slice(2);
    const [starts, ends] = padding(op, 'Padding', o.Padding, ns, () => samePadding(space, kernel, stride, dilation));
    const value = o.PaddingValue ?? 0;
    const symmetric = value === 0 && starts.every((s, i) => s === ends[i]);
    const xp = symmetric || starts.every((s, i) => s === 0 && ends[i] === 0) ? L.x : pad(L.x, padList(starts, ends), value);
    const b = biasVector(op, bias, G * fg);
    const conv = ns === 1 ? Conv.conv1d : Conv.conv2d;
    let y = conv(xp, w, b instanceof Tensor && b.rank === 1 ? b : null,
      { stride, dilation, padding: symmetric ? starts : 0, groups: G });
    if (b !== undefined && !(b instanceof Tensor && b.rank === 1)) y = add(y, b);
    return convResult(op, y, L);
  });
  return finish(op, out, o.DataFormat);
}

const DLTRANSPCONV = options('dltranspconv', {
  ...dataFormatSpec,
  // PyTorch's options, for unformatted X (convTranspose2d's layouts)
  /** (unformatted X, PyTorch) step between windows */
  stride: opt.any<Conv.Spatial>(),
  /** (unformatted X, PyTorch) cropped from both sides of the output */
  padding: opt.any<Conv.Spatial>(),
  /** (unformatted X, PyTorch) extra size on one side of the output */
  outputPadding: opt.any<Conv.Spatial>(),
  /** (unformatted X, PyTorch) channel groups */
  groups: opt.any<number>(),
  /** (unformatted X, PyTorch) spacing between kernel taps */
  dilation: opt.any<Conv.Spatial>(),
  // MATLAB's options, for formatted X or DataFormat
  ...convSpecs,
  /** (formatted X, MATLAB) output cropping: 0 (default), 'same' (output = input·stride), numbers or [[top, left], [bottom, right]] */
  Cropping: opt.any<number | number[] | number[][] | 'same'>(),
});
const PYTORCH_TRANSP = ['stride', 'padding', 'outputPadding', 'groups', 'dilation'] as const;
const MATLAB_TRANSP = ['Stride', 'DilationFactor', 'Cropping'] as const;

/**
 * MATLAB's dltranspconv(X, weights, bias) on formatted X (or with DataFormat): the transposed
 * convolution over the 'S' dims, weights [filter dims…, numFilters, numChannels] (grouped:
 * [filter dims…, filtersPerGroup, channelsPerGroup, numGroups]), bias numFilters values, one
 * value or 0; options Stride, DilationFactor, Cropping, DataFormat (MATLAB's names).
 *
 * Unformatted X without DataFormat keeps wasmgrad's PyTorch form: convTranspose2d with x
 * [N, C, H, W], weight [C, out/groups, kH, kW] and PyTorch's option names (stride, padding,
 * outputPadding, groups, dilation).
 */
export function dltranspconv(X: Tensor, weights: Tensor, bias?: Tensor | number | null, ...opts: unknown[]): Tensor {
  const op = 'dltranspconv';
  requireInit(op);
  const o = parseRest(op, DLTRANSPCONV, opts);
  const matlab = isFormatted(X) || o.DataFormat !== undefined;
  const wrong = (matlab ? PYTORCH_TRANSP : MATLAB_TRANSP).find((k) => o[k] !== undefined);
  if (wrong !== undefined) {
    throw new ValueError(matlab
      ? `${op}: '${wrong}' is an option of the PyTorch form (unformatted X); with formatted X (or DataFormat) the options are MATLAB's: Stride, DilationFactor, Cropping`
      : `${op}: '${wrong}' is MATLAB's option, for formatted X (or with DataFormat); for unformatted X (PyTorch's layout) the options are stride, padding, outputPadding, groups, dilation`);
  }
  if (!matlab) {
    if (typeof bias === 'number') throw new ValueError(`${op}: bias must be a Tensor or null for unformatted X, got ${describeValue(bias)}`);
    return Conv.dltranspconv(X, weights, bias, { stride: o.stride, padding: o.padding, outputPadding: o.outputPadding, groups: o.groups, dilation: o.dilation });
  }
  const x0 = tensorArg(op, X, 'X');
  const w0 = tensorArg(op, weights, 'weights');
  const out = tidy(() => {
    const L = convLayout(op, formatted(op, x0, o.DataFormat), 'convolves');
    const { ns } = L;
    const { w, G, filters: fg } = torchFilters(op, w0, ns, L.x.dims[1], true);
    const kernel = w0.dims.slice(0, ns);
    const stride = sizes(op, 'Stride', o.Stride, ns, 1, 1);
    const dilation = sizes(op, 'DilationFactor', o.DilationFactor, ns, 1, 1);
    const space = L.x.dims.slice(2);
    const full = space.map((n, i) => (n - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1);
    const [starts, ends] = padding(op, 'Cropping', o.Cropping, ns, () => {
      const total = full.map((f, i) => Math.max(f - space[i] * stride[i], 0));
      return [total.map((t) => Math.floor(t / 2)), total.map((t) => t - Math.floor(t / 2))];
    });
    starts.forEach((s, i) => {
      if (s + ends[i] >= full[i]) {
        throw new ValueError(`${op}: Cropping removes ${s + ends[i]} of the ${full[i]} outputs along spatial dim ${i}; at least one must remain`);
      }
    });
    const symmetric = starts.every((s, i) => s === ends[i]);
    const b = biasVector(op, bias, G * fg);
    const conv = ns === 1 ? Conv.convTranspose1d : Conv.convTranspose2d;
    let y = conv(L.x, w, b instanceof Tensor && b.rank === 1 ? b : null,
      { stride, dilation, padding: symmetric ? starts : 0, groups: G });
    if (!symmetric) starts.forEach((s, i) => { y = narrow(y, 2 + i, s, full[i] - s - ends[i]); });
    if (b !== undefined && !(b instanceof Tensor && b.rank === 1)) y = add(y, b);
    return convResult(op, y, L);
  });
  return finish(op, out, o.DataFormat);
}

// ————————————————————————————————————————————————————————— pooling

const poolSpecs = {
  ...dataFormatSpec,
  /** step between windows: one number or one per spatial dim (default 1, as MATLAB; not the pool size) */
  Stride: opt.any<number | number[]>(),
  /** 0 (default), 'same', a number, one per dim, or [[top, left], [bottom, right]] */
  Padding: opt.any<number | number[] | number[][] | 'same'>(),
};
const MAXPOOL = options('maxpool', poolSpecs);
const AVGPOOL = options('avgpool', {
  ...poolSpecs,
  /** the value padded in, counted in the averages (default 0) */
  PaddingValue: opt.number,
});

function pool(op: string, X: Tensor, poolsize: unknown, o: { DataFormat?: string; Stride?: unknown; Padding?: unknown; PaddingValue?: number }): Tensor {
  const x0 = tensorArg(op, X, 'X');
  const out = tidy(() => {
    const x = formatted(op, x0, o.DataFormat);
    const fmt = x._format!;
    const ns = dimsOf(fmt, 'S').length;
    if (ns < 1 || ns > 2) {
      throw new ValueError(`${op}: X has format '${fmt}' with ${ns} 'S' (spatial) dims; wasmgrad pools over 1 or 2 'S' dims ` +
        "(MATLAB's PoolFormat, pooling over 'T', is not supported)");
    }
    const others = [...fmt].filter((l) => l !== 'S').join('');
    const order = others + 'S'.repeat(ns);
    const xs = toOrder(op, x, order, 'X');
    const lead = xs.dims.slice(0, others.length);
    const space = xs.dims.slice(others.length);
    const planes = shaped(xs, [prod(lead), ...space]);
    const kernel = poolsize === 'global' ? space : sizes(op, 'poolsize', poolsize, ns, 1, 1);
    const stride = sizes(op, 'Stride', o.Stride, ns, 1, 1);
    const [starts, ends] = padding(op, 'Padding', o.Padding, ns, () => samePadding(space, kernel, stride, stride.map(() => 1)));
    const value = op === 'maxpool' ? -Infinity : (o.PaddingValue ?? 0);
    // Symmetric padding of at most half the window goes to the kernel (PyTorch's implicit -inf for
    // max, zeros counted in the average); anything else is padded explicitly first.
    const native = starts.every((s, i) => s === ends[i] && 2 * s <= kernel[i]) && (op === 'maxpool' || value === 0);
    const xp = native || starts.every((s, i) => s === 0 && ends[i] === 0) ? planes : pad(planes, padList(starts, ends), value);
    const padArg = native ? starts : 0;
    let y: Tensor;
    if (op === 'maxpool') y = (ns === 1 ? Pool.maxPool1d : Pool.maxPool2d)(xp, kernel, { stride, padding: padArg }) as Tensor;
    else y = (ns === 1 ? Pool.avgPool1d : Pool.avgPool2d)(xp, kernel, { stride, padding: padArg, countIncludePad: true });
    return fromOrder(op, shaped(y, [...lead, ...y.dims.slice(1)]), order);
  });
  return finish(op, out, o.DataFormat);
}

/**
 * MATLAB's maxpool(X, poolsize): the maximum of each pooling region over the 'S' dims (1 or 2)
 * of formatted X, keeping X's format. poolsize is a number, one per 'S' dim, or 'global'.
 * Options (MATLAB's): Stride (default 1, as MATLAB), Padding (0, 'same', numbers, or [[top,
 * left], [bottom, right]]; padded values never win), DataFormat.
 */
export function maxpool(X: Tensor, poolsize: number | number[] | 'global', ...opts: unknown[]): Tensor {
  requireInit('maxpool');
  return pool('maxpool', X, poolsize, parseRest('maxpool', MAXPOOL, opts));
}

/**
 * MATLAB's avgpool(X, poolsize): the mean of each pooling region over the 'S' dims of formatted
 * X, keeping its format. Options as maxpool, plus PaddingValue (a number, default 0; padded
 * values count in the mean, as MATLAB's default).
 */
export function avgpool(X: Tensor, poolsize: number | number[] | 'global', ...opts: unknown[]): Tensor {
  requireInit('avgpool');
  return pool('avgpool', X, poolsize, parseRest('avgpool', AVGPOOL, opts));
}

// ————————————————————————————————————————————————————————— normalisation

/** X (formatted) as [N, C, S…] (N: B, T and U dims folded; at least one trailing dim). */
function channelLayout(op: string, x: Tensor, minRank: number): { x: Tensor; order: string; lead: number[]; rest: number[] } {
  const fmt = x._format!;
  if (!fmt.includes('C')) throw new ValueError(`${op}: X has format '${fmt}' with no 'C' (channel) dim to normalise per channel`);
  const others = [...fmt].filter((l) => l !== 'C' && l !== 'S').join('');
  const ns = dimsOf(fmt, 'S').length;
  const order = `${others}C${'S'.repeat(ns)}`;
  const xs = toOrder(op, x, order, 'X');
  const lead = xs.dims.slice(0, others.length);
  const rest = xs.dims.slice(others.length + 1);
  const shape = [prod(lead), xs.dims[others.length], ...rest];
  while (shape.length < minRank) shape.push(1);
  return { x: shaped(xs, shape), order, lead, rest };
}

const BATCHNORM = options('batchnorm', {
  ...dataFormatSpec,
  /** added to the variance (default 1e-5) */
  Epsilon: opt.number,
  /** φ in updatedMu = φ·batchMu + (1 − φ)·runningMu (default 0.1) */
  MeanDecay: opt.number,
  /** φ in updatedSigmaSq = φ·batchSigmaSq + (1 − φ)·runningSigmaSq (default 0.1) */
  VarianceDecay: opt.number,
  /**
   * with running statistics: true normalises with the batch's and returns them updated (MATLAB's
   * three-output form), false normalises with the given (trained) ones (MATLAB's one-output form)
   */
  Training: opt.boolean,
});

/**
 * MATLAB's batchnorm, returning [Y, mu, sigmaSq] (MATLAB's outputs; `const [Y] = batchnorm(…)`
 * for one):
 * - batchnorm(X, offset, scaleFactor): normalises each channel ('C') of formatted X over its
 *   other dims with the batch mean and (population, divided by N) variance, then scales and
 *   offsets; mu and sigmaSq are those statistics.
 * - batchnorm(X, offset, scaleFactor, runningMu, runningSigmaSq, { Training: true }): the same,
 *   returning the running statistics updated, s ← φ·s_batch + (1 − φ)·s (MeanDecay,
 *   VarianceDecay, default 0.1).
 * - batchnorm(X, offset, scaleFactor, trainedMu, trainedSigmaSq, { Training: false }): normalises
 *   with the given statistics (inference) and returns them as they are.
 * MATLAB tells the last two apart by the number of outputs, which JavaScript cannot see, so with
 * statistics Training must be given. offset, scaleFactor and the statistics have one element per
 * channel (any shape: [C] or MATLAB's C×1); the returned statistics take the shape of those given
 * (of offset when none are). Options: Epsilon (1e-5), MeanDecay, VarianceDecay, DataFormat,
 * Training. Y keeps X's format.
 */
export function batchnorm(X: Tensor, offset: Tensor, scaleFactor: Tensor, ...rest: unknown[]): [Tensor, Tensor, Tensor] {
  const op = 'batchnorm';
  requireInit(op);
  let stats: [Tensor, Tensor] | undefined;
  let tail = rest;
  if (rest[0] instanceof Tensor || rest[1] instanceof Tensor) {
    stats = [tensorArg(op, rest[0], 'runningMu'), tensorArg(op, rest[1], 'runningSigmaSq')];
    tail = rest.slice(2);
  } else if (rest[0] === null && rest[1] === null) {
    tail = rest.slice(2); // no statistics, said explicitly
  }
  const o = parseRest(op, BATCHNORM, tail);
  const x0 = tensorArg(op, X, 'X');
  const beta = tensorArg(op, offset, 'offset');
  const gamma = tensorArg(op, scaleFactor, 'scaleFactor');
  const eps = o.Epsilon ?? 1e-5;
  if (!(eps > 0)) throw new ValueError(`${op}: Epsilon must be positive, got ${describeValue(o.Epsilon)}`);
  const decays = [o.MeanDecay ?? 0.1, o.VarianceDecay ?? 0.1];
  decays.forEach((d, k) => {
    if (!(d >= 0 && d <= 1)) throw new ValueError(`${op}: ${k === 0 ? 'MeanDecay' : 'VarianceDecay'} must be in [0, 1], got ${d}`);
  });
  if (stats !== undefined && o.Training === undefined) {
    throw new ValueError(`${op}: with running statistics, MATLAB picks training or inference by the number of outputs, which ` +
      'JavaScript cannot see: give { Training: true } (normalise with the batch statistics, return the updated running ones) or ' +
      '{ Training: false } (normalise with the given trained statistics)');
  }
  const training = stats === undefined || o.Training === true;
  const [y0, mu, sigmaSq] = tidy((): [Tensor, Tensor, Tensor] => {
    const x = formatted(op, x0, o.DataFormat);
    const L = channelLayout(op, x, 2);
    const C = L.x.dims[1];
    const perChannel = (t: Tensor, name: string): Tensor => {
      if (t.numel() !== C) throw new ShapeError(`${op}: ${name} has shape ${formatShape(t.dims)} but X has ${C} channels ('C'); it needs ${C} elements`);
      return t.rank === 1 ? t : reshape(t, [C]);
    };
    const g = perChannel(gamma, 'scaleFactor'), b = perChannel(beta, 'offset');
    let y: Tensor, m: Tensor, v: Tensor;
    if (training) {
      y = Norm.batchNorm(L.x, null, null, g, b, { training: true, eps });
      const axes = L.x.dims.map((_, k) => k).filter((k) => k !== 1);
      const d = L.x.detach();
      const bm = mean(d, axes), bv = variance(d, axes, { correction: 0 });
      if (stats === undefined) {
        m = reshape(bm, beta.dims); v = reshape(bv, beta.dims);
      } else {
        const [rm, rv] = [perChannel(stats[0], 'runningMu'), perChannel(stats[1], 'runningSigmaSq')];
        m = reshape(add(mul(bm, decays[0]), mul(rm.detach(), 1 - decays[0])), stats[0].dims);
        v = reshape(add(mul(bv, decays[1]), mul(rv.detach(), 1 - decays[1])), stats[1].dims);
      }
    } else {
      const [rm, rv] = [perChannel(stats![0], 'trainedMu'), perChannel(stats![1], 'trainedSigmaSq')];
      y = Norm.batchNorm(L.x, rm, rv, g, b, { training: false, eps });
      [m, v] = stats!;
    }
    const back = fromOrder(op, shaped(y, [...L.lead, C, ...L.rest]), L.order);
    return [back, m, v];
  });
  return [finish(op, y0, o.DataFormat), mu, sigmaSq];
}

const CROSSCHANNELNORM = options('crosschannelnorm', {
  ...dataFormatSpec,
  /** the multiplicative factor (default 1e-4) */
  alpha: opt.number,
  /** the exponent (default 0.75) */
  beta: opt.number,
  /** the additive constant: MATLAB's K, default 2 for formatted X (or DataFormat); PyTorch's k, default 1, for unformatted X */
  k: opt.number,
});

/**
 * MATLAB's crosschannelnorm(X, windowChannelSize): x / (k + alpha/size · Σ x²)^beta, the sum over
 * a window of windowChannelSize neighbouring channels ('C'), for formatted X (or DataFormat) with
 * MATLAB's defaults alpha = 1e-4, beta = 0.75, K = 2 (options alpha, beta, k: MATLAB's Alpha,
 * Beta, K). The window holds floor(size/2) channels before and (size−1)/2 after (centred for an
 * odd size). Y keeps X's format. Unformatted X without DataFormat keeps wasmgrad's PyTorch form,
 * localResponseNorm on [N, C, *] with PyTorch's k = 1.
 */
export function crosschannelnorm(X: Tensor, windowChannelSize: number, ...opts: unknown[]): Tensor {
  const op = 'crosschannelnorm';
  requireInit(op);
  const o = parseRest(op, CROSSCHANNELNORM, opts);
  const lrn = { alpha: o.alpha, beta: o.beta, k: o.k };
  if (!isFormatted(X) && o.DataFormat === undefined) return Norm.crosschannelnorm(X, windowChannelSize, lrn);
  const x0 = tensorArg(op, X, 'X');
  const out = tidy(() => {
    const L = channelLayout(op, formatted(op, x0, o.DataFormat), 3);
    const y = Norm.localResponseNorm(L.x, windowChannelSize, { ...lrn, k: o.k ?? 2 });
    return fromOrder(op, shaped(y, [...L.lead, L.x.dims[1], ...L.rest]), L.order);
  });
  return finish(op, out, o.DataFormat);
}

// ————————————————————————————————————————————————————————— softmax

const SOFTMAX = options('softmax', { ...dataFormatSpec });

/**
 * softmax along one dim. MATLAB's softmax(X): over the 'C' dim of formatted X (keeping its
 * format), or of an unformatted X with DataFormat (the result unformatted, in X's order); no
 * copy is made for the layout. PyTorch's softmax(x, axis) (default: the last axis) for an
 * unformatted x, or with an axis given (a formatted x keeps its format).
 */
export function softmax(X: Tensor, ...rest: unknown[]): Tensor {
  const op = 'softmax';
  requireInit(op);
  if (typeof rest[0] === 'number') {
    if (rest.length > 1) checkArity(op, [X, ...rest], 2, 'x, axis?');
    const y = Act.softmax(X, rest[0]);
    return isFormatted(X) ? setFormat(y, X._format) : y;
  }
  const o = parseRest(op, SOFTMAX, rest);
  if (!isFormatted(X) && o.DataFormat === undefined) return Act.softmax(X);
  const x = tensorArg(op, X, 'X');
  let fmt: string, axis: number;
  if (x._format !== undefined) {
    if (o.DataFormat !== undefined) {
      throw new ValueError(`${op}: X is already formatted ('${x._format}'); DataFormat ('${o.DataFormat}') is for unformatted X`);
    }
    fmt = x._format;
    axis = fmt.indexOf('C');
  } else {
    fmt = checkFormat(op, o.DataFormat, 'DataFormat');
    place(op, x.dims, fmt, 'DataFormat');
    axis = fmt.indexOf('C');
    if (axis >= x.rank) axis = -1; // a trailing singleton 'C' beyond X's dims: softmax of one value
  }
  if (axis < 0 && fmt.indexOf('C') < 0) {
    throw new ValueError(`${op}: ${x._format !== undefined ? 'X has format' : 'DataFormat is'} '${fmt}' with no 'C' (channel) dim to take the softmax over`);
  }
  if (axis < 0) return x.mul(0).add(1);
  const y = Act.softmax(x, axis);
  return x._format !== undefined ? setFormat(y, x._format) : y;
}

