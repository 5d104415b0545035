// Linear layers and einsum, composed from the batched matmul with transpose flags (assembly/
// matmul.ts) and the shape and reduction ops, so their derivatives of every order are those ops'.
//
// linear(x, W, b) reads W [out, in] transposed in place: x·Wᵀ is one matmul with transB, never a
// transposed copy. einsum parses its subscripts into diagonals (repeated letters), sums (letters
// no one needs any more), and, per pair of operands, one batched matmul over the shared letters.

import { Tensor, dataPointer } from '../tensor.js';
import { wasm, argsI32, I32, views } from '../runtime.js';
import { ShapeError, DTypeError, ValueError, formatShape } from '../errors.js';
import { idOf, call, disposeAll, requireInit, isFloat, Op, DType, reshapeRaw } from './common.js';
import { checkArity, describeValue } from '../options.js';


function floatDtypes(op: string, named: [Tensor, string][]): void {
  for (const [t, name] of named) {
    if (!isFloat(t.dtype)) {
      throw new DTypeError(`${op}: ${name} is a ${t.dtype} tensor of shape ${formatShape(t.dims)}; ${op} takes float32 or float64 tensors`);
    }
  }
  const [first, firstName] = named[0];
  for (const [t, name] of named) {
    if (t.dtype !== first.dtype) {
      throw new DTypeError(`${op}: cannot mix float32 and float64 (${firstName} is ${first.dtype} ${formatShape(first.dims)}, ${name} is ${t.dtype} ${formatShape(t.dims)}); cast one with .to('float32') or .to('float64')`);
    }
  }
}

// ————————————————————————————————————————————————————————— linear

/**
 * torch.nn.functional.linear: y = x·Wᵀ + b with x [..., in], W [out, in] and b [out] (optional),
 * giving [..., out]. A 1-D W [in] gives [...] (a dot product per row), with a rank-0 bias.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (arguments.length > 3) checkArity('linear', arguments, 3, 'x, weight, bias?');
  return linearAs('linear', x, weight, bias);
}

/** MATLAB's fullyconnect with PyTorch's layouts: x [..., in], weights [out, in], bias [out]. */
export function fullyconnect(x: Tensor, weights: Tensor, bias?: Tensor | null): Tensor {
  if (arguments.length > 3) checkArity('fullyconnect', arguments, 3, 'x, weights, bias?');
  return linearAs('fullyconnect', x, weights, bias);
}

function linearAs(op: string, x: Tensor, weight: Tensor, bias: Tensor | null | undefined): Tensor {
  requireInit(op);
  idOf(x, `${op} (x)`);
  idOf(weight, `${op} (weight)`);
  const hasBias = bias !== undefined && bias !== null;
  if (hasBias) idOf(bias, `${op} (bias)`);
  floatDtypes(op, hasBias ? [[x, 'x'], [weight, 'weight'], [bias, 'bias']] : [[x, 'x'], [weight, 'weight']]);
  if (x.rank === 0) throw new ShapeError(`${op}: x must have at least 1 dim [..., in], got a rank-0 tensor`);
  if (weight.rank !== 1 && weight.rank !== 2) {
    throw new ShapeError(`${op}: weight must be 2-D [out, in] (or 1-D [in]), got shape ${formatShape(weight.dims)}`);
  }
  const inX = x.dims[x.rank - 1], inW = weight.dims[weight.rank - 1];
  if (inX !== inW) {
    throw new ShapeError(`${op}: x has shape ${formatShape(x.dims)} and weight has shape ${formatShape(weight.dims)}: ` +
      `x's last dim (${inX}) must equal weight's in-features (dim ${weight.rank - 1}, ${inW})`);
  }
  const outFeatures = weight.rank === 2 ? [weight.dims[0]] : [];
  if (hasBias) {
    const ok = bias.rank === 0 || (bias.rank === 1 && (outFeatures.length === 0 ? bias.dims[0] === 1 : bias.dims[0] === outFeatures[0] || bias.dims[0] === 1));
    if (!ok) {
      throw new ShapeError(`${op}: bias has shape ${formatShape(bias.dims)} but weight has shape ${formatShape(weight.dims)}: ` +
        `bias must have shape ${formatShape(outFeatures)} (one per output feature)`);
    }
  }
  const temps: Tensor[] = [];
  try {
    // matmul needs rank >= 2 operands: x becomes [1, in] when 1-D, W [1, in] when 1-D.
    const x2 = x.rank === 1 ? reshapeRaw(op, x, [1, inX]) : x;
    if (x2 !== x) temps.push(x2);
    const w2 = weight.rank === 1 ? reshapeRaw(op, weight, [1, inW]) : weight;
    if (w2 !== weight) temps.push(w2);
    let y = call(op, wasm.matmul(x2.id, w2.id, 0, 1));
    const shape = [...x.dims.slice(0, -1), ...outFeatures];
    if (y.rank !== shape.length || y.dims.some((d, k) => d !== shape[k])) {
      temps.push(y);
      y = reshapeRaw(op, y, shape);
    }
    if (!hasBias) return y;
    temps.push(y);
    return call(op, wasm.binary(Op.add, y.id, bias.id));
  } finally {
    disposeAll(temps);
  }
}

// ————————————————————————————————————————————————————————— einsum

const ELLIPSIS = '…';

/** One operand's subscripts: a letter (or ELLIPSIS-expanded placeholder) per dim. */
interface Term { labels: string[] }

function isLetter(c: string): boolean { return /^[A-Za-z]$/.test(c); }

/** Splits and checks the equation; returns the input terms (raw strings) and the output (or null when implicit). */
function parseEquation(equation: string, count: number): [string[], string | null] {
  if (typeof equation !== 'string') throw new ValueError(`einsum: equation must be a string like 'ij,jk->ik', got ${describeValue(equation)}`);
  const eq = equation.replace(/\s+/g, '');
  const arrow = eq.indexOf('->');
  if (arrow !== -1 && eq.indexOf('->', arrow + 1) !== -1) throw new ValueError(`einsum: equation '${equation}' has more than one '->'`);
  const lhs = arrow === -1 ? eq : eq.slice(0, arrow);
  const rhs = arrow === -1 ? null : eq.slice(arrow + 2);
  const terms = lhs.split(',');
  if (terms.length !== count) {
    throw new ValueError(`einsum: equation '${equation}' has ${terms.length} operand term(s) but ${count} operand(s) were given`);
  }
  for (const term of [...terms, ...(rhs === null ? [] : [rhs])]) {
    const rest = term.replace('...', '');
    if (rest.includes('.')) throw new ValueError(`einsum: invalid '.' in term '${term}' of '${equation}'; an ellipsis is exactly '...', at most once per term`);
    for (const c of rest) {
      if (!isLetter(c)) throw new ValueError(`einsum: invalid subscript '${c}' in term '${term}' of '${equation}'; subscripts are letters a-z, A-Z (and '...')`);
    }
  }
  return [terms, rhs];
}

/** Labels per dim of an operand, the ellipsis expanded to placeholders ELLIPSIS+k (k counting from the right). */
function expandTerm(equation: string, term: string, x: Tensor, k: number): Term {
  const at = term.indexOf('...');
  const letters = term.replace('...', '').split('');
  if (at === -1) {
    if (letters.length !== x.rank) {
      throw new ShapeError(`einsum: term '${term}' of '${equation}' has ${letters.length} subscript(s) but operand ${k} has ${x.rank} dim(s) (shape ${formatShape(x.dims)})`);
    }
    return { labels: letters };
  }
  const before = term.slice(0, at).split('').filter(Boolean), after = term.slice(at + 3).split('').filter(Boolean);
  const covered = x.rank - before.length - after.length;
  if (covered < 0) {
    throw new ShapeError(`einsum: term '${term}' of '${equation}' needs at least ${before.length + after.length} dim(s) but operand ${k} has ${x.rank} (shape ${formatShape(x.dims)})`);
  }
  const dots = Array.from({ length: covered }, (_, j) => `${ELLIPSIS}${covered - 1 - j}`);
  return { labels: [...before, ...dots, ...after] };
}

/** An operand during contraction: its tensor, a label per dim, and whether it is a temporary. */
interface Operand { t: Tensor; labels: string[]; temp: boolean }

/** The diagonal over a repeated label, moved to the end: x[..., i, ..., i, ...] → x'[..., i]. */
function takeDiagonal(x: Operand, label: string): Operand {
  const where = x.labels.flatMap((l, d) => (l === label ? [d] : []));
  const [p, q] = where;
  const n = x.t.dims[p];
  const others = x.labels.map((_, d) => d).filter((d) => d !== p && d !== q);
  const perm = [...others, p, q];
  const moved = call('einsum', wasm.permute(x.t.id, argsI32(perm)));
  const lead = others.map((d) => x.t.dims[d]);
  const flat = reshapeRaw('einsum', moved, [...lead, n * n]);
  const idx = call('einsum', wasm.newTensor(DType.int32, 1, argsI32([n])));
  writeInts(idx, Int32Array.from({ length: n }, (_, i) => i * (n + 1)));
  const picked = call('einsum', wasm.indexSelect(flat.id, lead.length, idx.id));
  disposeAll([moved, flat, idx]);
  if (x.temp) x.t.dispose();
  return { t: picked, labels: [...others.map((d) => x.labels[d]), label], temp: true };
}

function writeInts(t: Tensor, values: Int32Array): void {
  views();
  I32.set(values, dataPointer(t) >>> 2);
}

/** Sums out the dims whose labels are not in `keep`. */
function sumOut(x: Operand, keep: Set<string>): Operand {
  let mask = 0;
  x.labels.forEach((l, d) => { if (!keep.has(l)) mask |= 1 << d; });
  if (mask === 0) return x;
  const s = call('einsum', wasm.sum(x.t.id, mask, 0));
  if (x.temp) x.t.dispose();
  return { t: s, labels: x.labels.filter((l) => keep.has(l)), temp: true };
}

/** Permutes x to the label order `labels` (a permutation of x's labels); no copy when already in order. */
function arrange(x: Operand, labels: string[]): Operand {
  const perm = labels.map((l) => x.labels.indexOf(l));
  if (perm.every((p, k) => p === k)) return x;
  const y = call('einsum', wasm.permute(x.t.id, argsI32(perm)));
  if (x.temp) x.t.dispose();
  return { t: y, labels, temp: true };
}

function reshapeOperand(x: Operand, dims: number[], labels: string[]): Operand {
  const y = reshapeRaw('einsum', x.t, dims);
  if (x.temp) x.t.dispose();
  return { t: y, labels, temp: true };
}

const prod = (ds: number[]): number => ds.reduce((a, b) => a * b, 1);

/**
 * Contracts two operands with unique labels over their shared labels not in `keep`, as one
 * batched matmul [batch, M, K]·[batch, K, N]; the result's labels are batch, a's own, b's own.
 * A label of size 1 on one side and n on the other is broadcast, as in PyTorch.
 */
function contractPair(a: Operand, b: Operand, keep: Set<string>): Operand {
  // A summed label of size 1 on one side and n on the other: Σ_l a·b = (Σ_l a)·(Σ_l b) then.
  for (const l of a.labels.filter((l) => b.labels.includes(l) && !keep.has(l))) {
    if (a.t.dims[a.labels.indexOf(l)] === b.t.dims[b.labels.indexOf(l)]) continue;
    a = sumOut(a, new Set(a.labels.filter((m) => m !== l)));
    b = sumOut(b, new Set(b.labels.filter((m) => m !== l)));
  }
  const shared = a.labels.filter((l) => b.labels.includes(l));
  const batch = shared.filter((l) => keep.has(l));
  const contracted = shared.filter((l) => !keep.has(l));
  const freeA = a.labels.filter((l) => !shared.includes(l));
  const freeB = b.labels.filter((l) => !shared.includes(l));
  const size = (x: Operand, l: string) => x.t.dims[x.labels.indexOf(l)];
  // Keep a's own order within each group, so a often needs no permute; b may be read transposed.
  const aNatural = [...batch, ...freeA, ...contracted], aTrans = [...batch, ...contracted, ...freeA];
  const transA = !aNatural.every((l, k) => a.labels[k] === l) && aTrans.every((l, k) => a.labels[k] === l);
  const bNatural = [...batch, ...contracted, ...freeB], bTrans = [...batch, ...freeB, ...contracted];
  const transB = !bNatural.every((l, k) => b.labels[k] === l) && bTrans.every((l, k) => b.labels[k] === l);
  a = arrange(a, transA ? aTrans : aNatural);
  b = arrange(b, transB ? bTrans : bNatural);
  const batchA = batch.map((l) => size(a, l)), batchB = batch.map((l) => size(b, l));
  const M = prod(freeA.map((l) => size(a, l))), N = prod(freeB.map((l) => size(b, l)));
  const K = prod(contracted.map((l) => size(a, l)));
  const a3 = reshapeOperand(a, [...batchA, ...(transA ? [K, M] : [M, K])], a.labels);
  const b3 = reshapeOperand(b, [...batchB, ...(transB ? [N, K] : [K, N])], b.labels);
  const c = call('einsum', wasm.matmul(a3.t.id, b3.t.id, transA ? 1 : 0, transB ? 1 : 0));
  if (a3.temp) a3.t.dispose();
  if (b3.temp) b3.t.dispose();
  const batchOut = batch.map((_, k) => Math.max(batchA[k], batchB[k]));
  const out: Operand = { t: c, labels: [], temp: true };
  return reshapeOperand(out, [...batchOut, ...freeA.map((l) => size(a, l)), ...freeB.map((l) => size(b, l))],
    [...batch, ...freeA, ...freeB]);
}

/**
 * torch.einsum: einsum('ij,jk->ik', a, b) (or with the operands as an array). Subscripts are
 * letters; '...' stands for the unnamed dims; without '->' the output is every letter that
 * appears exactly once, in alphabetical order (after the '...' dims). A repeated letter in one
 * term takes a diagonal ('ii->i', 'ii->' the trace); letters missing from the output are summed.
 * Operands are contracted left to right, each pair as one batched matmul.
 */
export function einsum(equation: string, ...operands: (Tensor | Tensor[])[]): Tensor {
  requireInit('einsum');
  const list = (operands.length === 1 && Array.isArray(operands[0]) ? operands[0] : operands) as Tensor[];
  if (list.length === 0) throw new ValueError('einsum: at least one operand is needed');
  list.forEach((t, k) => idOf(t, `einsum (operand ${k})`));
  floatDtypes('einsum', list.map((t, k): [Tensor, string] => [t, `operand ${k}`]));
  const [rawTerms, rawOut] = parseEquation(equation, list.length);
  const terms = rawTerms.map((term, k) => expandTerm(equation, term, list[k], k));
  terms.forEach((term, k) => term.labels.forEach((l, d) => {
    const first = term.labels.indexOf(l);
    if (first !== d && list[k].dims[first] !== list[k].dims[d]) {
      throw new ShapeError(`einsum: subscript '${l}' is repeated in term ${k} of '${equation}' but its dims have sizes ${list[k].dims[first]} and ${list[k].dims[d]} (shape ${formatShape(list[k].dims)}); a diagonal needs equal sizes`);
    }
  }));
  // Sizes per label: equal, or 1 (broadcast).
  const sizes = new Map<string, number>();
  terms.forEach((term, k) => term.labels.forEach((l, d) => {
    const n = list[k].dims[d], seen = sizes.get(l);
    if (seen === undefined || seen === 1) sizes.set(l, n);
    else if (n !== seen && n !== 1) {
      const name = l.startsWith(ELLIPSIS) ? "'...'" : `'${l}'`;
      throw new ShapeError(`einsum: subscript ${name} has size ${seen} in one operand but ${n} in operand ${k} (shape ${formatShape(list[k].dims)}) of '${equation}'`);
    }
  }));
  const dots = Math.max(0, ...terms.map((t) => t.labels.filter((l) => l.startsWith(ELLIPSIS)).length));
  const dotLabels = Array.from({ length: dots }, (_, j) => `${ELLIPSIS}${dots - 1 - j}`);
  let outLabels: string[];
  if (rawOut === null) {
    const counts = new Map<string, number>();
    terms.forEach((t) => t.labels.forEach((l) => counts.set(l, (counts.get(l) ?? 0) + 1)));
    const once = [...counts].filter(([l, c]) => c === 1 && !l.startsWith(ELLIPSIS)).map(([l]) => l).sort();
    outLabels = [...dotLabels, ...once];
  } else {
    const at = rawOut.indexOf('...');
    const letters = rawOut.replace('...', '').split('');
    letters.forEach((l, i) => {
      if (letters.indexOf(l) !== i) throw new ValueError(`einsum: output subscript '${l}' appears more than once in '${equation}'`);
      if (!sizes.has(l)) throw new ValueError(`einsum: output subscript '${l}' does not appear in any input term of '${equation}'`);
    });
    outLabels = at === -1 ? letters : [...rawOut.slice(0, at).split(''), ...dotLabels, ...rawOut.slice(at + 3).split('')];
  }
  if (outLabels.length > 8) throw new ShapeError(`einsum: the output of '${equation}' would have ${outLabels.length} dims; at most 8 are supported`);

  let ops: Operand[] = list.map((t, k) => ({ t, labels: terms[k].labels, temp: false }));
  // Diagonals for letters repeated inside one term.
  ops = ops.map((x) => {
    let cur = x;
    for (;;) {
      const dup = cur.labels.find((l, d) => cur.labels.indexOf(l) !== d);
      if (dup === undefined) return cur;
      cur = takeDiagonal(cur, dup);
    }
  });
  /** The output's labels and those of operands from..end: what a contraction must keep. */
  const needed = (from: number): Set<string> => {
    const s = new Set<string>(outLabels);
    for (let k = from; k < ops.length; k++) ops[k].labels.forEach((l) => s.add(l));
    return s;
  };
  try {
    // Sum each operand over labels that nothing else uses, then contract left to right.
    ops = ops.map((x, k) => sumOut(x, new Set([...outLabels, ...ops.filter((_, j) => j !== k).flatMap((o) => o.labels)])));
    let acc = ops[0];
    for (let k = 1; k < ops.length; k++) acc = contractPair(acc, ops[k], needed(k + 1));
    acc = arrange(acc, outLabels);
    return acc.temp ? acc.t : call('einsum', wasm.copy(acc.t.id));
  } catch (e) {
    for (const x of ops) if (x.temp && x.t.isAlive) x.t.dispose();
    throw e;
  }
}

declare module '../tensor.js' {
  interface Tensor {
    /** linear(this, weight, bias): this·weightᵀ + bias, weight [out, in] */
    linear(weight: Tensor, bias?: Tensor | null): Tensor;
    /** einsum(equation, this, ...others) */
    einsum(equation: string, ...others: Tensor[]): Tensor;
  }
}

const P = Tensor.prototype;
P.linear = function (weight, bias) {
  if (arguments.length > 2) checkArity('Tensor.linear', arguments, 2, 'weight, bias?');
  return linear(this, weight, bias);
};
P.einsum = function (equation, ...others) { return einsum(equation, this, ...others); };
