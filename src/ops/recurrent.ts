// Recurrent layers over a whole sequence: lstm and gru with torch.nn.LSTM / torch.nn.GRU's
// semantics (the functional _VF.lstm / _VF.gru), gate orders and weight layout, so weights move
// between the two through a state dict.
//
// They are composites of differentiable ops (linear, sigmoid, tanh, split, stack), so VJP, JVP
// and higher derivatives come from those ops' rules. As PyTorch does on the CPU, the input
// projection x·W_ihᵀ + b_ih of a layer is one product over all time steps; each step then adds
// h·W_hhᵀ + b_hh.

import { Tensor, full, type Shape } from '../tensor.js';
import { tidy } from '../scope.js';
import { ShapeError, DTypeError, ValueError, formatShape } from '../errors.js';
import { idOf, isFloat, requireInit } from './common.js';
import { add, sub, mul, sigmoid, tanh } from './elementwise.js';
import { linear } from './nn-linear.js';
import { dropout } from './dropout.js';
import { select, stack, concat, split, unstack, transpose, unsqueeze, squeeze } from './shape.js';
import { options, opt, checkArity, describeValue, type OptionsOf, type OptionSchema } from '../options.js';

type Kind = 'lstm' | 'gru';
const GATES: Record<Kind, number> = { lstm: 4, gru: 3 };

/**
 * Weights by PyTorch's state-dict names (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0,
 * …_reverse for the backward direction), or a list in PyTorch's flat-weights order: for each
 * layer, for each direction, w_ih, w_hh[, b_ih, b_hh].
 */
export type RnnParams = Readonly<Record<string, Tensor>> | readonly Tensor[];

const rnnSpecs = {
  /** stacked layers (default 1) */
  numLayers: opt.any<number>(),
  /** a second pass from the last step to the first, its outputs concatenated (default false) */
  bidirectional: opt.any<boolean>(),
  /** x and the output are [N, T, features] instead of [T, N, features]; states are never batch-first */
  batchFirst: opt.any<boolean>(),
  /** dropout on the outputs of every layer but the last, when training (default 0) */
  dropout: opt.any<number>(),
  /** whether dropout applies (default true, as a freshly made torch module) */
  training: opt.any<boolean>(),
};
const SCHEMAS: Record<Kind, OptionSchema<typeof rnnSpecs>> = { lstm: options('lstm', rnnSpecs), gru: options('gru', rnnSpecs) };
/** Options of lstm / gru: numLayers (1), bidirectional (false), batchFirst (false), dropout (0), training (true). */
export type RnnOptions = OptionsOf<typeof rnnSpecs>;

interface CellWeights { wIh: Tensor; wHh: Tensor; bIh?: Tensor; bHh?: Tensor }

interface Plan {
  T: number; N: number; inputSize: number; hidden: number; layers: number; dirs: number;
  batched: boolean; batchFirst: boolean; dropout: number; training: boolean;
  weights: CellWeights[][]; // [layer][direction]
}

const describe = (t: Tensor): string => `${t.dtype} ${formatShape(t.dims)}`;

function checkOptions(op: Kind, opts: RnnOptions | undefined): Required<RnnOptions> {
  const options = SCHEMAS[op].parse(opts);
  const numLayers = options.numLayers ?? 1;
  if (typeof numLayers !== 'number' || !Number.isInteger(numLayers) || numLayers < 1) {
    throw new ValueError(`${op}: numLayers must be an integer >= 1, got ${String(numLayers)}`);
  }
  const dropout = options.dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout <= 1)) {
    throw new ValueError(`${op}: dropout must be a probability in [0, 1], got ${String(dropout)}`);
  }
  for (const flag of ['bidirectional', 'batchFirst', 'training'] as const) {
    const v = options[flag];
    if (v !== undefined && typeof v !== 'boolean') throw new ValueError(`${op}: ${flag} must be a boolean, got ${describeValue(v)}`);
  }
  return {
    numLayers, dropout, bidirectional: !!options.bidirectional, batchFirst: !!options.batchFirst,
    training: options.training ?? true,
  };
}

/** The parameter names of one configuration, in PyTorch's flat-weights order. */
function paramNames(layers: number, dirs: number, bias: boolean): string[] {
  const names: string[] = [];
  for (let k = 0; k < layers; k++) {
    for (let d = 0; d < dirs; d++) {
      const sfx = `l${k}${d === 1 ? '_reverse' : ''}`;
      names.push(`weight_ih_${sfx}`, `weight_hh_${sfx}`);
      if (bias) names.push(`bias_ih_${sfx}`, `bias_hh_${sfx}`);
    }
  }
  return names;
}

/** The weights by name, after checking that exactly one configuration's names are present. */
function namedParams(op: string, params: RnnParams, layers: number, dirs: number): Map<string, Tensor> {
  const config = `numLayers ${layers}, bidirectional ${dirs === 2}`;
  if (Array.isArray(params)) {
    const n = params.length, withBias = layers * dirs * 4, without = layers * dirs * 2;
    if (n !== withBias && n !== without) {
      throw new ValueError(`${op}: params has ${n} tensors; with ${config} PyTorch's flat-weights order has ${withBias} (with biases) or ${without} (without)`);
    }
    const names = paramNames(layers, dirs, n === withBias);
    return new Map(names.map((name, i) => [name, params[i]]));
  }
  if (params === null || typeof params !== 'object') {
    throw new ValueError(`${op}: params must be an object of tensors by PyTorch's names (weight_ih_l0, …) or an array in flat-weights order, got ${describeValue(params)}`);
  }
  const given = Object.keys(params);
  const names = paramNames(layers, dirs, 'bias_ih_l0' in params || 'bias_hh_l0' in params);
  const unknown = given.filter((k) => !names.includes(k));
  if (unknown.length > 0) {
    throw new ValueError(`${op}: params has unexpected entries ${unknown.join(', ')}; with ${config} the expected names are ${names.join(', ')}`);
  }
  const missing = names.filter((k) => !(k in params));
  if (missing.length > 0) {
    throw new ValueError(`${op}: params is missing ${missing.join(', ')} (with ${config}, biases either all present or all absent)`);
  }
  return new Map(names.map((name) => [name, (params as Record<string, Tensor>)[name]]));
}

function requireShape(op: string, name: string, t: Tensor, expected: Shape, why: string): void {
  if (t.rank !== expected.length || t.dims.some((d, j) => d !== expected[j])) {
    throw new ShapeError(`${op}: ${name} has shape ${formatShape(t.dims)} but must be ${formatShape(expected)} (${why})`);
  }
}

function plan(kind: Kind, x: Tensor, states: (Tensor | undefined)[], stateNames: string[], params: RnnParams, options: RnnOptions | undefined): Plan {
  const op = kind;
  const opts = checkOptions(op, options);
  idOf(x, `${op} (x)`);
  if (!isFloat(x.dtype)) throw new DTypeError(`${op}: x is ${describe(x)}; ${op} takes float32 or float64 tensors`);
  if (x.rank !== 2 && x.rank !== 3) {
    throw new ShapeError(`${op}: x must be 2-D (unbatched [T, input_size]) or 3-D ([T, N, input_size], or [N, T, input_size] with batchFirst), got shape ${formatShape(x.dims)}`);
  }
  const batched = x.rank === 3;
  const batchFirst = batched && opts.batchFirst;
  const T = batched ? x.dims[batchFirst ? 1 : 0] : x.dims[0];
  const N = batched ? x.dims[batchFirst ? 0 : 1] : 1;
  const inputSize = x.dims[x.rank - 1];
  if (T === 0) throw new ShapeError(`${op}: x has shape ${formatShape(x.dims)}, a sequence of length 0; the sequence length must be larger than 0`);
  const layers = opts.numLayers, dirs = opts.bidirectional ? 2 : 1, G = GATES[kind];

  const named = namedParams(op, params, layers, dirs);
  for (const [name, t] of named) {
    idOf(t, `${op} (params.${name})`);
    if (t.dtype !== x.dtype) {
      throw new DTypeError(`${op}: ${name} is ${describe(t)} but x is ${describe(x)}; all weights must have x's dtype`);
    }
  }
  const whh0 = named.get('weight_hh_l0')!;
  if (whh0.rank !== 2 || whh0.dims[0] !== G * whh0.dims[1]) {
    throw new ShapeError(`${op}: weight_hh_l0 has shape ${formatShape(whh0.dims)} but must be [${G}·hidden_size, hidden_size] (gates ${kind === 'lstm' ? 'i, f, g, o' : 'r, z, n'} stacked)`);
  }
  const H = whh0.dims[1];
  const weights: CellWeights[][] = [];
  for (let k = 0; k < layers; k++) {
    const row: CellWeights[] = [];
    const layerIn = k === 0 ? inputSize : dirs * H;
    const inWhy = k === 0 ? `input_size ${inputSize} from x of shape ${formatShape(x.dims)}` : `layer ${k} reads the ${dirs === 2 ? '2·' : ''}hidden_size outputs of layer ${k - 1}`;
    for (let d = 0; d < dirs; d++) {
      const sfx = `l${k}${d === 1 ? '_reverse' : ''}`;
      const w: CellWeights = { wIh: named.get(`weight_ih_${sfx}`)!, wHh: named.get(`weight_hh_${sfx}`)!, bIh: named.get(`bias_ih_${sfx}`), bHh: named.get(`bias_hh_${sfx}`) };
      requireShape(op, `weight_ih_${sfx}`, w.wIh, [G * H, layerIn], `${G}·hidden_size rows with hidden_size ${H}; ${inWhy}`);
      requireShape(op, `weight_hh_${sfx}`, w.wHh, [G * H, H], `${G}·hidden_size rows with hidden_size ${H} from weight_hh_l0`);
      if (w.bIh) requireShape(op, `bias_ih_${sfx}`, w.bIh, [G * H], `${G}·hidden_size with hidden_size ${H}`);
      if (w.bHh) requireShape(op, `bias_hh_${sfx}`, w.bHh, [G * H], `${G}·hidden_size with hidden_size ${H}`);
      row.push(w);
    }
    weights.push(row);
  }

  const stateShape = batched ? [layers * dirs, N, H] : [layers * dirs, H];
  states.forEach((s, i) => {
    if (s === undefined || s === null) return;
    idOf(s, `${op} (${stateNames[i]})`);
    if (s.dtype !== x.dtype) throw new DTypeError(`${op}: ${stateNames[i]} is ${describe(s)} but x is ${describe(x)}; they must have one dtype`);
    requireShape(op, stateNames[i], s, stateShape,
      `numLayers·directions = ${layers * dirs}${batched ? `, batch size ${N} from x of shape ${formatShape(x.dims)}` : ', unbatched as x is 2-D'}, hidden_size ${H}`);
  });
  return { T, N, inputSize, hidden: H, layers, dirs, batched, batchFirst, dropout: opts.dropout, training: opts.training, weights };
}


/** One direction of one layer: outputs in time order [T, N, H], and the final state(s). */
function runDirection(kind: Kind, xs: Tensor, h0: Tensor, c0: Tensor | undefined, w: CellWeights, H: number, reverse: boolean): [Tensor, Tensor, Tensor | undefined] {
  const T = xs.dims[0];
  const steps = unstack(linear(xs, w.wIh, w.bIh), 0); // [N, G·H] per step
  const outs: Tensor[] = new Array(T);
  let h = h0, c = c0;
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const hGates = linear(h, w.wHh, w.bHh);
    if (kind === 'lstm') {
      const [i, f, g, o] = split(add(hGates, steps[t]), H, 1);
      c = add(mul(sigmoid(f), c!), mul(sigmoid(i), tanh(g)));
      h = mul(sigmoid(o), tanh(c));
    } else {
      const [hr, hz, hn] = split(hGates, H, 1);
      const [ir, iz, inew] = split(steps[t], H, 1);
      const r = sigmoid(add(hr, ir));
      const z = sigmoid(add(hz, iz));
      const n = tanh(add(inew, mul(hn, r)));
      h = add(mul(sub(h, n), z), n); // PyTorch's (h − n)·z + n = (1 − z)·n + z·h
    }
    outs[t] = h;
  }
  return [stack(outs, 0), h, c];
}

function run(kind: Kind, x: Tensor, h0: Tensor | undefined, c0: Tensor | undefined, p: Plan): [Tensor, Tensor, Tensor | undefined] {
  return tidy(() => {
    // Work in [T, N, features] with explicit batch and state dims.
    let seq = p.batched ? (p.batchFirst ? transpose(x, 0, 1) : x) : unsqueeze(x, 1);
    const dtype = x.dtype;
    const zeroState = () => full([p.N, p.hidden], 0, { dtype });
    const initial = (s: Tensor | undefined, idx: number) => (s ? select(p.batched ? s : unsqueeze(s, 1), 0, idx) : zeroState());
    const hN: Tensor[] = [], cN: Tensor[] = [];
    for (let k = 0; k < p.layers; k++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < p.dirs; d++) {
        const idx = k * p.dirs + d;
        const [out, h, c] = runDirection(kind, seq, initial(h0, idx), kind === 'lstm' ? initial(c0, idx) : undefined, p.weights[k][d], p.hidden, d === 1);
        outs.push(out);
        hN.push(h);
        if (c) cN.push(c);
      }
      seq = outs.length === 1 ? outs[0] : concat(outs, 2);
      if (k < p.layers - 1 && p.training && p.dropout > 0) seq = dropout(seq, p.dropout);
    }
    const output = p.batched ? (p.batchFirst ? transpose(seq, 0, 1) : seq) : squeeze(seq, 1);
    const finalState = (list: Tensor[]) => (p.batched ? stack(list, 0) : squeeze(stack(list, 0), 1));
    return [output, finalState(hN), kind === 'lstm' ? finalState(cN) : undefined] as [Tensor, Tensor, Tensor | undefined];
  });
}

/**
 * torch.nn.LSTM over a whole sequence: x [T, N, input_size] (or [N, T, input_size] with
 * batchFirst, or unbatched [T, input_size]); hx = [h0, c0], each [numLayers·directions, N,
 * hidden_size], or omitted for zeros. Gates i, f, g, o stacked in weight_ih_l{k} [4H, in],
 * weight_hh_l{k} [4H, H], bias_ih_l{k}, bias_hh_l{k} [4H]:
 *   c' = σ(f)·c + σ(i)·tanh(g),  h' = σ(o)·tanh(c').
 * Returns [output [T, N, directions·H], [hN, cN]]. (proj_size is not supported.)
 */
export function lstm(x: Tensor, hx: readonly [Tensor, Tensor] | null | undefined, params: RnnParams, options?: RnnOptions): [Tensor, [Tensor, Tensor]] {
  if (arguments.length > 4) checkArity('lstm', arguments, 4, 'x, hx, params, { numLayers, bidirectional, batchFirst, dropout, training }');
  requireInit('lstm');
  if (hx !== null && hx !== undefined && (!Array.isArray(hx) || hx.length !== 2 || !hx.every((t) => t instanceof Tensor))) {
    throw new ValueError(`lstm: hx must be [h0, c0] (two tensors) or omitted for zero states, got ${Array.isArray(hx) ? `an array of ${hx.length} (${hx.map((t) => (t instanceof Tensor ? 'Tensor' : String(t))).join(', ')})` : typeof hx}`);
  }
  const h0 = hx?.[0], c0 = hx?.[1];
  const p = plan('lstm', x, [h0, c0], ['h0', 'c0'], params, options);
  const [output, hN, cN] = run('lstm', x, h0, c0, p);
  return [output, [hN, cN!]];
}

/**
 * torch.nn.GRU over a whole sequence (shapes as lstm; h0 alone, or omitted for zeros). Gates
 * r, z, n stacked in weight_ih_l{k} [3H, in], weight_hh_l{k} [3H, H] and the biases:
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz),
 *   n = tanh(W_in x + b_in + r·(W_hn h + b_hn)),  h' = (1 − z)·n + z·h.
 * Returns [output [T, N, directions·H], hN].
 */
export function gru(x: Tensor, h0: Tensor | null | undefined, params: RnnParams, options?: RnnOptions): [Tensor, Tensor] {
  if (arguments.length > 4) checkArity('gru', arguments, 4, 'x, h0, params, { numLayers, bidirectional, batchFirst, dropout, training }');
  requireInit('gru');
  if (h0 !== null && h0 !== undefined && !(h0 instanceof Tensor)) {
    throw new ValueError(`gru: h0 must be a Tensor or omitted for a zero state, got ${Array.isArray(h0) ? 'an array' : typeof h0}`);
  }
  const h = h0 ?? undefined;
  const p = plan('gru', x, [h], ['h0'], params, options);
  const [output, hN] = run('gru', x, h, undefined, p);
  return [output, hN];
}

declare module '../tensor.js' {
  interface Tensor {
    /** An LSTM over this whole sequence [T, N, in] (see lstm): [output [T, N, directions·H], [hN, cN]] (PyTorch: torch.nn.LSTM's forward; MATLAB: lstm). */
    lstm(hx: readonly [Tensor, Tensor] | null | undefined, params: RnnParams, options?: RnnOptions): [Tensor, [Tensor, Tensor]];
    /** A GRU over this whole sequence [T, N, in] (see gru): [output [T, N, directions·H], hN] (PyTorch: torch.nn.GRU's forward; MATLAB: gru). */
    gru(h0: Tensor | null | undefined, params: RnnParams, options?: RnnOptions): [Tensor, Tensor];
  }
}

const P = Tensor.prototype;
P.lstm = function (hx, params, options) {
  if (arguments.length > 3) checkArity('Tensor.lstm', arguments, 3, 'hx, params, options?');
  return lstm(this, hx, params, options);
};
P.gru = function (h0, params, options) {
  if (arguments.length > 3) checkArity('Tensor.gru', arguments, 3, 'h0, params, options?');
  return gru(this, h0, params, options);
};
