// Attention: scaledDotProductAttention with torch.nn.functional.scaled_dot_product_attention's
// semantics (its math backend), and multiHeadAttention with
// torch.nn.functional.multi_head_attention_forward's (nn.MultiheadAttention's parameters and
// return values). Without a mask or dropout (isCausal or nothing) and with one batch shape,
// scaledDotProductAttention is the fused op `attention`, its gradient the fused op
// `attentionBackward` (assembly/ops/attention.ts: blocks of query rows, no L×S matrix; rules of
// their own); otherwise both are composites of differentiable ops, so VJP, JVP and higher
// derivatives come from those ops' rules.

import { Tensor, full, tensor, type DTypeName, type Shape } from '../tensor.js';
import { tidy } from '../scope.js';
import { ShapeError, DTypeError, ValueError, formatShape } from '../errors.js';
import { idOf, isFloat, broadcastShapes, requireInit, call } from './common.js';
import { wasm } from '../runtime.js';
import { add, sub, mul, exp, eq, where } from './elementwise.js';
import { logsumexp, amax, mean } from './reduce.js';
import { matmul, matmulT } from './matmul.js';
import { reshape, transpose, unsqueeze, squeeze, slice, split } from './shape.js';
import { dropout } from './dropout.js';
import { options, opt, checkArity, describeValue, type OptionsOf } from '../options.js';

const describe = (t: Tensor): string => `${t.dtype} ${formatShape(t.dims)}`;

/**
 * Stable softmax over the last dim: exp(x − logsumexp(x)); an all −inf row gives NaN, as
 * torch.softmax. Attention keeps this composite rather than the softmax primitive because the
 * committed determinism hashes fix its bits; moving to the primitive is a deliberate hash update.
 */
function softmaxLast(x: Tensor): Tensor {
  return exp(sub(x, logsumexp(x, -1, { keepdims: true })));
}

/**
 * PyTorch's _safe_softmax (what SDPA's math backend uses since 2.5): rows that are entirely −inf
 * give 0 instead of NaN, with a zero gradient. Those rows are replaced by zeros before the
 * softmax so that no NaN ever enters the tape (0·NaN would poison the rules).
 */
function safeSoftmaxLast(x: Tensor): Tensor {
  if (x.dims[x.rank - 1] === 0) return softmaxLast(x);
  const masked = eq(amax(x, -1, { keepdims: true }), -Infinity);
  return where(masked, 0, softmaxLast(where(masked, 0, x)));
}

/** A float bias from a bool mask: 0 where `takePart` matches the mask value, −inf elsewhere. */
function boolBias(mask: Tensor, dtype: DTypeName, trueTakesPart: boolean): Tensor {
  const zero = full([], 0, { dtype });
  return trueTakesPart ? where(mask, zero, -Infinity) : where(mask, -Infinity, zero);
}

function checkFloatMask(op: string, name: string, mask: Tensor, q: Tensor): void {
  idOf(mask, `${op} (${name})`);
  if (mask.dtype !== 'bool' && mask.dtype !== q.dtype) {
    throw new DTypeError(`${op}: ${name} is ${describe(mask)}; it must be a bool mask or a float mask of query's dtype (${q.dtype})`);
  }
}

/** softmax(q·kᵀ·scale + bias)·v over the last two dims, batch dims broadcast. */
function attend(q: Tensor, k: Tensor, v: Tensor, bias: Tensor | undefined, scale: number, safe: boolean, dropoutP: number): [Tensor, Tensor] {
  let scores = matmulT(q, k, { transB: true });
  if (scale !== 1) scores = mul(scores, scale);
  if (bias) scores = add(scores, bias);
  let weights = safe ? safeSoftmaxLast(scores) : softmaxLast(scores);
  weights = dropout(weights, dropoutP);
  return [matmul(weights, v), weights];
}

function checkDropout(op: string, name: string, p: unknown): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new ValueError(`${op}: ${name} must be a probability in [0, 1], got ${String(p)}`);
  }
  return p;
}

const SDPA = options('scaledDotProductAttention', {
  /**
   * bool: true = takes part in attention (PyTorch's convention here); or a float mask added to
   * the scores. Broadcastable to [..., L, S].
   */
  attnMask: opt.any<Tensor | null>(),
  /** attend to keys j <= i only (top-left aligned lower triangle of [L, S]); excludes attnMask */
  isCausal: opt.any<boolean>(),
  /** the factor on q·kᵀ (default 1/sqrt(E)) */
  scale: opt.any<number | null>(),
  /** dropout on the attention weights from the seeded generator (default 0) */
  dropoutP: opt.any<number>(),
});
/** Options of scaledDotProductAttention: attnMask, isCausal, scale (default 1/√E), dropoutP (default 0). */
export type SdpaOptions = OptionsOf<typeof SDPA>;

/**
 * torch.nn.functional.scaled_dot_product_attention: softmax(q·kᵀ·scale + mask)·v with q [..., L,
 * E], k [..., S, E], v [..., S, Ev] (batch dims broadcast) → [..., L, Ev]. A row whose scores
 * are all −inf (fully masked) gives zeros, as PyTorch's math backend (its _safe_softmax).
 */
export function scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, opts?: SdpaOptions): Tensor {
  const op = 'scaledDotProductAttention';
  if (arguments.length > 4) checkArity(op, arguments, 4, 'query, key, value, { attnMask, isCausal, scale, dropoutP }');
  requireInit(op);
  const options = SDPA.parse(opts);
  const names = ['query', 'key', 'value'];
  [query, key, value].forEach((t, i) => {
    idOf(t, `${op} (${names[i]})`);
    if (!isFloat(t.dtype)) throw new DTypeError(`${op}: ${names[i]} is ${describe(t)}; attention takes float32 or float64 tensors`);
    if (t.rank < 2) throw new ShapeError(`${op}: ${names[i]} has shape ${formatShape(t.dims)}; it needs at least 2 dims ([..., length, features])`);
  });
  if (key.dtype !== query.dtype || value.dtype !== query.dtype) {
    throw new DTypeError(`${op}: query (${describe(query)}), key (${describe(key)}) and value (${describe(value)}) must have one dtype`);
  }
  const L = query.dims[query.rank - 2], E = query.dims[query.rank - 1], S = key.dims[key.rank - 2];
  if (key.dims[key.rank - 1] !== E) {
    throw new ShapeError(`${op}: query ${formatShape(query.dims)} and key ${formatShape(key.dims)} must have the same last dim (embedding size), got ${E} and ${key.dims[key.rank - 1]}`);
  }
  if (value.dims[value.rank - 2] !== S) {
    throw new ShapeError(`${op}: key ${formatShape(key.dims)} and value ${formatShape(value.dims)} must have the same source length (dim -2), got ${S} and ${value.dims[value.rank - 2]}`);
  }
  const qk = broadcastShapes(op, query.dims.slice(0, -2), key.dims.slice(0, -2), ['query batch dims', 'key batch dims']);
  const batch = broadcastShapes(op, qk, value.dims.slice(0, -2), ['query and key batch dims', 'value batch dims']);
  const mask = options.attnMask ?? undefined;
  const isCausal = options.isCausal ?? false;
  if (typeof isCausal !== 'boolean') throw new ValueError(`${op}: isCausal must be a boolean, got ${describeValue(isCausal)}`);
  if (mask !== undefined) {
    if (isCausal) throw new ValueError(`${op}: attnMask must not be given with isCausal: true (the causal mask replaces it), as in PyTorch`);
    checkFloatMask(op, 'attnMask', mask, query);
    const target = [...batch, L, S];
    const b = broadcastShapes(op, mask.dims, target, ['attnMask', 'scores [..., L, S]']);
    if (formatShape(b) !== formatShape(target)) {
      throw new ShapeError(`${op}: attnMask of shape ${formatShape(mask.dims)} must broadcast to the scores' shape ${formatShape(target)}, not enlarge it to ${formatShape(b)}`);
    }
  }
  const scale = options.scale ?? 1 / Math.sqrt(E);
  if (typeof scale !== 'number' || Number.isNaN(scale)) throw new ValueError(`${op}: scale must be a number, got ${String(scale)}`);
  const dropoutP = checkDropout(op, 'dropoutP', options.dropoutP ?? 0);

  const sameBatch = (t: Tensor) => formatShape(t.dims.slice(0, -2)) === formatShape(batch);
  if (mask === undefined && dropoutP === 0 && sameBatch(query) && sameBatch(key) && sameBatch(value)) {
    return tidy(() => {
      const N = batch.reduce((a, b) => a * b, 1), Ev = value.dims[value.rank - 1];
      const three = (t: Tensor, len: number, width: number) => reshape(t, [N, len, width]);
      const out = call(op, wasm.attention(three(query, L, E).id, three(key, S, E).id, three(value, S, Ev).id, scale, isCausal ? 1 : 0));
      return reshape(out, [...batch, L, Ev]);
    });
  }
  return tidy(() => {
    let bias: Tensor | undefined;
    if (isCausal) {
      const values = query.dtype === 'float64' ? new Float64Array(L * S) : new Float32Array(L * S);
      for (let i = 0; i < L; i++) for (let j = i + 1; j < S; j++) values[i * S + j] = -Infinity;
      bias = tensor(values, { shape: [L, S], dtype: query.dtype });
    } else if (mask) {
      bias = mask.dtype === 'bool' ? boolBias(mask, query.dtype, true) : mask;
    }
    return attend(query, key, value, bias, scale, true, dropoutP)[0];
  });
}

/**
 * nn.MultiheadAttention's parameters by their state-dict names: in_proj_weight [3E, E] and
 * in_proj_bias [3E] (q, k, v stacked), or q_proj_weight [E, E], k_proj_weight [E, kdim],
 * v_proj_weight [E, vdim] with in_proj_bias; out_proj.weight [E, E] and out_proj.bias [E].
 * Biases are optional (bias=False).
 */
export interface MultiHeadAttentionParams {
  /** q, k, v projections stacked, [3E, E] (when kdim = vdim = E) */
  in_proj_weight?: Tensor;
  /** the query projection [E, E] (when kdim or vdim differ from E) */
  q_proj_weight?: Tensor;
  /** the key projection [E, kdim] */
  k_proj_weight?: Tensor;
  /** the value projection [E, vdim] */
  v_proj_weight?: Tensor;
  /** q, k, v biases stacked, [3E] (optional) */
  in_proj_bias?: Tensor;
  /** the output projection [E, E] */
  'out_proj.weight': Tensor;
  /** the output projection's bias [E] (optional) */
  'out_proj.bias'?: Tensor;
}

const MHA = options('multiHeadAttention', {
  /** the number of heads (required); it must divide the embedding size */
  numHeads: opt.any<number>(),
  /** query/key/value and the output are [N, L, E] instead of [L, N, E] (default false) */
  batchFirst: opt.any<boolean>(),
  /** [N, S] (or [S] unbatched): bool true = ignore that key (MHA's convention), or a float bias */
  keyPaddingMask: opt.any<Tensor | null>(),
  /** [L, S] or [N·numHeads, L, S]: bool true = not allowed to attend (MHA's convention), or a float bias */
  attnMask: opt.any<Tensor | null>(),
  /** also return the attention weights (default true, as PyTorch) */
  needWeights: opt.any<boolean>(),
  /** average the returned weights over heads (default true) */
  averageAttnWeights: opt.any<boolean>(),
  /** dropout on the attention weights when training (default 0) */
  dropout: opt.any<number>(),
  /** whether dropout applies (default true, as a freshly made torch module) */
  training: opt.any<boolean>(),
});
/** multiHeadAttention's options: numHeads is required, the rest optional. */
export type MultiHeadAttentionOptions = OptionsOf<typeof MHA> & {
  /** the number of heads (required); it must divide the embedding size */
  numHeads: number;
};

const PARAM_NAMES = ['in_proj_weight', 'q_proj_weight', 'k_proj_weight', 'v_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias'];

function requireShape(op: string, name: string, t: Tensor, expected: Shape, why: string): void {
  if (t.rank !== expected.length || t.dims.some((d, j) => d !== expected[j])) {
    throw new ShapeError(`${op}: ${name} has shape ${formatShape(t.dims)} but must be ${formatShape(expected)} (${why})`);
  }
}

/**
 * torch.nn.MultiheadAttention's forward (F.multi_head_attention_forward): query [L, N, E], key
 * [S, N, kdim], value [S, N, vdim] (batch-first or unbatched [L, E] too) → [attnOutput [L, N, E],
 * attnWeights [N, L, S] (averaged over heads) or [N, numHeads, L, S], or null without
 * needWeights]. With needWeights, a fully masked row gives NaN (a plain softmax, as PyTorch);
 * without, it goes through scaledDotProductAttention and gives 0. (bias_k, bias_v and
 * add_zero_attn are not supported.)
 */
export function multiHeadAttention(query: Tensor, key: Tensor, value: Tensor, params: MultiHeadAttentionParams,
  opts: MultiHeadAttentionOptions): [Tensor, Tensor | null] {
  const op = 'multiHeadAttention';
  if (arguments.length > 5) checkArity(op, arguments, 5, 'query, key, value, params, { numHeads, ... }');
  requireInit(op);
  const options = MHA.parse(opts);
  const names = ['query', 'key', 'value'];
  [query, key, value].forEach((t, i) => {
    idOf(t, `${op} (${names[i]})`);
    if (!isFloat(t.dtype)) throw new DTypeError(`${op}: ${names[i]} is ${describe(t)}; attention takes float32 or float64 tensors`);
    if (t.dtype !== query.dtype) throw new DTypeError(`${op}: ${names[i]} is ${describe(t)} but query is ${describe(query)}; they must have one dtype`);
  });
  if (query.rank !== 2 && query.rank !== 3) {
    throw new ShapeError(`${op}: query must be 3-D ([L, N, E], or [N, L, E] with batchFirst) or 2-D (unbatched [L, E]), got shape ${formatShape(query.dims)}`);
  }
  const batched = query.rank === 3;
  for (const [t, name] of [[key, 'key'], [value, 'value']] as const) {
    if (t.rank !== query.rank) {
      throw new ShapeError(`${op}: query has shape ${formatShape(query.dims)} (${batched ? 'batched, 3-D' : 'unbatched, 2-D'}) so ${name} must be ${query.rank}-D too, got shape ${formatShape(t.dims)}`);
    }
  }
  const numHeads = options.numHeads;
  if (typeof numHeads !== 'number' || !Number.isInteger(numHeads) || numHeads < 1) {
    throw new ValueError(`${op}: numHeads must be an integer >= 1, got ${String(numHeads)}`);
  }
  for (const flag of ['batchFirst', 'needWeights', 'averageAttnWeights', 'training'] as const) {
    const v = options[flag];
    if (v !== undefined && typeof v !== 'boolean') throw new ValueError(`${op}: ${flag} must be a boolean, got ${describeValue(v)}`);
  }
  const batchFirst = batched && !!options.batchFirst;
  const needWeights = options.needWeights ?? true, average = options.averageAttnWeights ?? true;
  const dropoutP = (options.training ?? true) ? checkDropout(op, 'dropout', options.dropout ?? 0) : 0;
  // Sizes in PyTorch's seq-first terms.
  const seqDim = batchFirst ? 1 : 0, batchDim = batchFirst ? 0 : 1;
  const L = query.dims[batched ? seqDim : 0], S = key.dims[batched ? seqDim : 0];
  const N = batched ? query.dims[batchDim] : 1;
  const E = query.dims[query.rank - 1];
  if (E % numHeads !== 0) throw new ValueError(`${op}: embed_dim ${E} (the last dim of query ${formatShape(query.dims)}) is not divisible by numHeads ${numHeads}`);
  const hd = E / numHeads;
  if (batched && (key.dims[batchDim] !== N || value.dims[batchDim] !== N)) {
    throw new ShapeError(`${op}: batch sizes differ: query ${formatShape(query.dims)}, key ${formatShape(key.dims)}, value ${formatShape(value.dims)} (batch dim ${batchDim}${batchFirst ? ', batchFirst' : ''})`);
  }
  if (value.dims[batched ? seqDim : 0] !== S) {
    throw new ShapeError(`${op}: key ${formatShape(key.dims)} and value ${formatShape(value.dims)} must have the same source length, got ${S} and ${value.dims[batched ? seqDim : 0]}`);
  }

  // Parameters.
  if (params === null || typeof params !== 'object') throw new ValueError(`${op}: params must be an object of tensors by nn.MultiheadAttention's names, got ${describeValue(params)}`);
  const unknown = Object.keys(params).filter((k) => !PARAM_NAMES.includes(k));
  if (unknown.length > 0) throw new ValueError(`${op}: params has unexpected entries ${unknown.join(', ')}; expected ${PARAM_NAMES.join(', ')} (bias_k, bias_v are not supported)`);
  const P = params as unknown as Record<string, Tensor | undefined>;
  for (const name of PARAM_NAMES) {
    const t = P[name];
    if (t === undefined || t === null) continue;
    idOf(t, `${op} (params.${name})`);
    if (t.dtype !== query.dtype) throw new DTypeError(`${op}: ${name} is ${describe(t)} but query is ${describe(query)}; they must have one dtype`);
  }
  const separate = P.in_proj_weight === undefined;
  if (separate) {
    const missing = ['q_proj_weight', 'k_proj_weight', 'v_proj_weight'].filter((k) => !P[k]);
    if (missing.length > 0) throw new ValueError(`${op}: params needs in_proj_weight [3E, E], or all of q_proj_weight, k_proj_weight, v_proj_weight (missing ${missing.join(', ')})`);
    requireShape(op, 'q_proj_weight', P.q_proj_weight!, [E, E], `embed_dim ${E} from query`);
    requireShape(op, 'k_proj_weight', P.k_proj_weight!, [E, key.dims[key.rank - 1]], `embed_dim ${E} rows, kdim ${key.dims[key.rank - 1]} from key`);
    requireShape(op, 'v_proj_weight', P.v_proj_weight!, [E, value.dims[value.rank - 1]], `embed_dim ${E} rows, vdim ${value.dims[value.rank - 1]} from value`);
  } else {
    if (P.q_proj_weight || P.k_proj_weight || P.v_proj_weight) throw new ValueError(`${op}: give in_proj_weight or q/k/v_proj_weight, not both`);
    requireShape(op, 'in_proj_weight', P.in_proj_weight!, [3 * E, E], `3·embed_dim rows, embed_dim ${E} from query`);
    for (const [t, name] of [[key, 'key'], [value, 'value']] as const) {
      if (t.dims[t.rank - 1] !== E) {
        throw new ShapeError(`${op}: ${name} has shape ${formatShape(t.dims)} but with in_proj_weight its last dim must be embed_dim ${E} (use q/k/v_proj_weight for other sizes)`);
      }
    }
  }
  if (P.in_proj_bias) requireShape(op, 'in_proj_bias', P.in_proj_bias, [3 * E], `3·embed_dim with embed_dim ${E}`);
  if (!P['out_proj.weight']) throw new ValueError(`${op}: params is missing out_proj.weight [E, E]`);
  requireShape(op, 'out_proj.weight', P['out_proj.weight'], [E, E], `embed_dim ${E} from query`);
  if (P['out_proj.bias']) requireShape(op, 'out_proj.bias', P['out_proj.bias'], [E], `embed_dim ${E}`);

  // Masks.
  const kpm = options.keyPaddingMask ?? undefined, attnMask = options.attnMask ?? undefined;
  if (kpm) {
    checkFloatMask(op, 'keyPaddingMask', kpm, query);
    requireShape(op, 'keyPaddingMask', kpm, batched ? [N, S] : [S], batched ? `batch size ${N}, source length ${S}` : `unbatched, source length ${S}`);
  }
  if (attnMask) {
    checkFloatMask(op, 'attnMask', attnMask, query);
    if (attnMask.rank === 2) requireShape(op, 'attnMask', attnMask, [L, S], `2-D: target length ${L}, source length ${S}`);
    else if (attnMask.rank === 3) requireShape(op, 'attnMask', attnMask, [N * numHeads, L, S], `3-D: batch size ${N} · numHeads ${numHeads}, target length ${L}, source length ${S}`);
    else throw new ShapeError(`${op}: attnMask must be 2-D [L, S] or 3-D [N·numHeads, L, S], got shape ${formatShape(attnMask.dims)}`);
  }

  return tidy(() => {
    const selfAttention = query === key && key === value, sharedKV = key === value;
    const seqFirst = (t: Tensor) => (batched ? (batchFirst ? transpose(t, 0, 1) : t) : unsqueeze(t, 1));
    const qIn = seqFirst(query);
    const kIn = selfAttention ? qIn : seqFirst(key);
    const vIn = sharedKV ? kIn : seqFirst(value);
    const b = P.in_proj_bias;
    const bPart = (i: number) => (b ? slice(b, 0, i * E, (i + 1) * E) : undefined);
    const lin = (x: Tensor, w: Tensor, bias?: Tensor) => { const y = matmulT(x, w, { transB: true }); return bias ? add(y, bias) : y; };
    let q: Tensor, k: Tensor, v: Tensor;
    if (separate) {
      q = lin(qIn, P.q_proj_weight!, bPart(0));
      k = lin(kIn, P.k_proj_weight!, bPart(1));
      v = lin(vIn, P.v_proj_weight!, bPart(2));
    } else if (selfAttention) {
      [q, k, v] = split(lin(qIn, P.in_proj_weight!, b), E, -1); // one product for all three, as PyTorch
    } else {
      const W = P.in_proj_weight!, wPart = (i: number) => slice(W, 0, i * E, (i + 1) * E);
      q = lin(qIn, wPart(0), bPart(0));
      k = lin(kIn, wPart(1), bPart(1));
      v = lin(vIn, wPart(2), bPart(2));
    }
    // [len, N, E] → [N·heads, len, head_dim]
    const heads = (t: Tensor, len: number) => transpose(reshape(t, [len, N * numHeads, hd]), 0, 1);
    q = heads(q, L); k = heads(k, S); v = heads(v, S);

    // One float bias [1 or N·heads, L or 1, S]: the attention mask plus the key padding mask.
    let bias: Tensor | undefined;
    if (attnMask) {
      const m = attnMask.dtype === 'bool' ? boolBias(attnMask, query.dtype, false) : attnMask;
      bias = m.rank === 2 ? unsqueeze(m, 0) : m;
    }
    if (kpm) {
      const m = kpm.dtype === 'bool' ? boolBias(kpm, query.dtype, false) : kpm;
      const perHead = reshape(m.reshape([N, 1, 1, S]).broadcastTo([N, numHeads, 1, S]), [N * numHeads, 1, S]);
      bias = bias ? add(bias, perHead) : perHead;
    }

    let out: Tensor, weights: Tensor;
    if (needWeights) {
      // PyTorch scales q first, then adds the mask to the product and takes a plain softmax.
      [out, weights] = attend(mul(q, Math.sqrt(1 / hd)), k, v, bias, 1, false, dropoutP);
    } else {
      [out, weights] = attend(q, k, v, bias, 1 / Math.sqrt(hd), true, dropoutP);
    }
    out = reshape(transpose(out, 0, 1), [L, N, E]);
    out = lin(out, P['out_proj.weight']!, P['out_proj.bias']);
    out = batched ? (batchFirst ? transpose(out, 0, 1) : out) : squeeze(out, 1);
    if (!needWeights) return [out, null] as [Tensor, Tensor | null];
    let w = reshape(weights, [N, numHeads, L, S]);
    if (average) w = mean(w, 1);
    if (!batched) w = squeeze(w, 0);
    return [out, w] as [Tensor, Tensor | null];
  });
}

declare module '../tensor.js' {
  interface Tensor {
    /** softmax(q·kᵀ·scale + mask)·v with this as q [..., L, E], key [..., S, E], value [..., S, Ev] → [..., L, Ev] (PyTorch: torch.nn.functional.scaled_dot_product_attention; MATLAB: attention). */
    scaledDotProductAttention(key: Tensor, value: Tensor, options?: SdpaOptions): Tensor;
    /** nn.MultiheadAttention's forward with this as the query: [output, weights | null] (PyTorch: torch.nn.functional.multi_head_attention_forward). */
    multiHeadAttention(key: Tensor, value: Tensor, params: MultiHeadAttentionParams, options: MultiHeadAttentionOptions): [Tensor, Tensor | null];
  }
}

const T = Tensor.prototype;
T.scaledDotProductAttention = function (key, value, options) {
  if (arguments.length > 3) checkArity('Tensor.scaledDotProductAttention', arguments, 3, 'key, value, { attnMask, isCausal, scale, dropoutP }');
  return scaledDotProductAttention(this, key, value, options);
};
T.multiHeadAttention = function (key, value, params, options) {
  if (arguments.length > 4) checkArity('Tensor.multiHeadAttention', arguments, 4, 'key, value, params, { numHeads, ... }');
  return multiHeadAttention(this, key, value, params, options);
};
