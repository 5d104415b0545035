// MATLAB's data formats for dlarray: one label per dim, S (spatial), C (channel), B (batch),
// T (time), U (unspecified), kept in MATLAB's canonical order S…S C B T U…U. A format lives on the
// Tensor handle (`format`, src/tensor.ts); this file checks formats, puts data into canonical
// order, aligns formatted operands by label, and moves formatted data to and from the PyTorch
// layouts the kernels use.
//
// wasmgrad tensors are row-major and have no views: permute and reshape copy. So labelling data
// that is already in canonical order costs nothing (for data given as JS arrays) or one copy (a
// Tensor given to dlarray, so that the caller's handle keeps its own format); a permutation costs
// one copy.

import { Tensor, setFormat } from '../tensor.js';
import { ShapeError, ValueError, formatShape } from '../errors.js';
import { describeValue } from '../options.js';
import { reshape, permute } from '../ops/shape.js';
import { clone } from '../ops/elementwise.js';

export type Label = 'S' | 'C' | 'B' | 'T' | 'U';
const ORDER: Record<Label, number> = { S: 0, C: 1, B: 2, T: 3, U: 4 };
const NAMES: Record<Label, string> = { S: 'spatial', C: 'channel', B: 'batch', T: 'time', U: 'unspecified' };
const LABEL_LIST = "S (spatial), C (channel), B (batch), T (time), U (unspecified)";

/** The format of a formatted Tensor operand, else undefined (numbers, unformatted tensors, anything else). */
export function formatOf(x: unknown): string | undefined {
  return x instanceof Tensor ? x._format : undefined;
}

/**
 * Checks a format string: each character one of S, C, B, T, U, and C, B, T at most once. Errors
 * name the op, the format and the offending label.
 */
export function checkFormat(op: string, fmt: unknown, what = 'format'): string {
  if (typeof fmt !== 'string') {
    throw new ValueError(`${op}: ${what} must be a string of dimension labels such as 'SSCB' or 'CB', got ${describeValue(fmt)}`);
  }
  for (let k = 0; k < fmt.length; k++) {
    const c = fmt[k];
    if (!(c in ORDER)) {
      const hint = c.toUpperCase() in ORDER ? ` (labels are upper case: '${c.toUpperCase()}')` : '';
      throw new ValueError(`${op}: ${what} '${fmt}' has the invalid label '${c}' at position ${k}${hint}; ` +
        `the labels are ${LABEL_LIST}`);
    }
  }
  for (const c of ['C', 'B', 'T'] as const) {
    const n = fmt.split(c).length - 1;
    if (n > 1) {
      throw new ValueError(`${op}: ${what} '${fmt}' has ${n} '${c}' (${NAMES[c]}) labels; C, B and T may each appear at most once ` +
        '(S and U any number of times)');
    }
  }
  return fmt;
}

/** The label's name for messages: "'C' (channel)". */
export const labelName = (l: string): string => `'${l}' (${NAMES[l as Label] ?? 'unknown'})`;

/** The permutation that sorts a format's labels into canonical order (stable: S's and U's keep their order). */
export function canonicalPerm(fmt: string): number[] {
  return Array.from(fmt, (_, k) => k).sort((a, b) => ORDER[fmt[a] as Label] - ORDER[fmt[b] as Label] || a - b);
}

export const canonical = (fmt: string): string => canonicalPerm(fmt).map((k) => fmt[k]).join('');

/** The dims of x that carry `label`, 0-based, in order. */
export function dimsOf(fmt: string, label: string): number[] {
  const out: number[] = [];
  for (let k = 0; k < fmt.length; k++) if (fmt[k] === label) out.push(k);
  return out;
}

/**
 * MATLAB's rules for putting a format on data, as dlarray(X, fmt) applies them, giving the dims
 * in the given order, the canonical format and the permutation:
 * - trailing singleton dims beyond the labels are dropped (MATLAB arrays have any number of
 *   them); more dims than labels is an error;
 * - more labels than dims: singleton dims are appended for the extra labels;
 * - one label on a vector gives a column vector, the second (singleton) dim labelled 'U';
 * - the labels are sorted into canonical order S…S C B T U…U, the data permuted with them;
 * - singleton trailing 'U' dims after the second dim are dropped.
 */
export interface Placement { padded: number[]; perm: number[]; format: string; dims: number[] }

export function place(op: string, shape: readonly number[], fmt: string, what = 'format'): Placement {
  checkFormat(op, fmt, what);
  let labels = fmt;
  const dims = [...shape];
  while (dims.length > labels.length && dims[dims.length - 1] === 1) dims.pop();
  if (dims.length > labels.length) {
    throw new ShapeError(`${op}: ${what} '${fmt}' has ${labels.length} label${labels.length === 1 ? '' : 's'} but the data has ` +
      `${dims.length} dims (shape ${formatShape(shape)}); give one label per dim, e.g. '${suggest(dims.length)}'`);
  }
  while (dims.length < labels.length) dims.push(1);
  if (labels.length === 1) { labels += 'U'; dims.push(1); }
  const perm = canonicalPerm(labels);
  let format = perm.map((k) => labels[k]).join('');
  let out = perm.map((k) => dims[k]);
  while (format.length > 2 && format[format.length - 1] === 'U' && out[out.length - 1] === 1) {
    format = format.slice(0, -1);
    out = out.slice(0, -1);
  }
  return { padded: dims, perm, format, dims: out };
}

function suggest(rank: number): string {
  const common = ['U', 'CB', 'SCB', 'SSCB', 'SSSCB', 'SSSCBT'];
  return common[rank - 1] ?? 'S'.repeat(rank - 2) + 'CB';
}

const identity = (perm: readonly number[]): boolean => perm.every((p, k) => p === k);
const sameDims = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, k) => d === b[k]);

/**
 * x's data (its dims in order, any current format ignored) under `fmt` by MATLAB's rules: a tensor
 * in canonical order with the format set. Returns x itself, labelled, when neither a permutation
 * nor a reshape is needed and `inPlace` (x is the caller's own new tensor); otherwise a new tensor
 * (reshape and permute are differentiable, so this is too).
 */
export function applyFormat(op: string, x: Tensor, fmt: string, inPlace: boolean, what = 'format'): Tensor {
  if (fmt === '') return inPlace ? setFormat(x, undefined) : clone(x);
  const p = place(op, x.dims, fmt, what);
  let t = x;
  const temps: Tensor[] = [];
  try {
    if (!identity(p.perm)) {
      if (!sameDims(t.dims, p.padded)) { t = reshape(t, p.padded); temps.push(t); }
      t = permute(t, p.perm); temps.push(t);
    }
    if (!sameDims(t.dims, p.dims)) { t = reshape(t, p.dims); temps.push(t); }
    if (t === x) {
      if (!inPlace) { t = clone(x); temps.push(t); }
    }
    temps.pop();
    return setFormat(t, p.format);
  } finally {
    for (const d of temps) if (d !== x) d.dispose();
  }
}

/**
 * x (formatted) permuted so that its dims follow `order`, a sequence of labels that holds each of
 * x's labels (S's and U's matched in order); labels of `order` that x lacks become singleton dims.
 * The result is unformatted. No copy is made when x is already in that order (x itself is
 * returned, still formatted: callers only read it).
 */
export function toOrder(op: string, x: Tensor, order: string, what = 'x'): Tensor {
  const fmt = x._format!;
  const used = new Array<boolean>(fmt.length).fill(false);
  const source: number[] = [];
  for (const l of order) {
    let k = -1;
    for (let j = 0; j < fmt.length; j++) if (!used[j] && fmt[j] === l) { k = j; break; }
    if (k >= 0) used[k] = true;
    source.push(k);
  }
  const missing = [...fmt].filter((_, j) => !used[j]);
  if (missing.length > 0) {
    throw new ValueError(`${op}: ${what} has format '${fmt}' but the operation takes dims labelled '${order}': ` +
      `${missing.map(labelName).join(', ')} ${missing.length === 1 ? 'has' : 'have'} no place`);
  }
  const present = source.filter((k) => k >= 0);
  const outDims = source.map((k) => (k >= 0 ? x.dims[k] : 1));
  if (identity(present)) return sameDims(outDims, x.dims) ? x : reshape(x, outDims);
  const moved = permute(x, present);
  if (sameDims(moved.dims, outDims)) return moved;
  const r = reshape(moved, outDims);
  moved.dispose();
  return r;
}

/** t, whose dims follow the labels `order` (a permutation of a canonical format), back in canonical order and labelled. */
export function fromOrder(op: string, t: Tensor, order: string): Tensor {
  const perm = canonicalPerm(order);
  const format = perm.map((k) => order[k]).join('');
  if (identity(perm)) return setFormat(t, format);
  const r = permute(t, perm);
  t.dispose();
  return setFormat(r, format);
}

// ————————————————————————————————————————————————————————— aligning operands by label

export interface Aligned { args: unknown[]; format: string; temps: Tensor[] }

/**
 * Operands of an elementwise op, at least one of them formatted, brought to one format:
 * - formatted operands are matched by label (their formats are canonical, so inserting singleton
 *   dims for the labels one lacks is a reshape, never a permutation); S and U dims must come in
 *   equal numbers where both have them;
 * - an unformatted tensor is read in the formatted data's order, MATLAB's way: its dims line up
 *   with the first dims and missing trailing dims are singletons (a [C] vector beside 'CB' data
 *   is C×1);
 * - numbers and rank-0 tensors broadcast as they are.
 * Sizes must agree or be 1 per label; a mismatch is a ShapeError naming the label.
 */
export function alignOperands(op: string, operands: readonly unknown[], names: readonly string[]): Aligned {
  const formats = operands.map(formatOf);
  // The union: for each class the largest count; every formatted operand has that count or none.
  const count = (f: string, l: Label): number => f.split(l).length - 1;
  let union = '';
  for (const l of ['S', 'C', 'B', 'T', 'U'] as Label[]) {
    let n = 0;
    formats.forEach((f) => { if (f !== undefined) n = Math.max(n, count(f, l)); });
    formats.forEach((f, k) => {
      if (f !== undefined && count(f, l) !== 0 && count(f, l) !== n) {
        const other = formats.findIndex((g) => g !== undefined && count(g, l) === n);
        throw new ShapeError(`${op}: ${names[k]} has format '${f}' and ${names[other]} '${formats[other]}': they have ` +
          `${count(f, l)} and ${n} ${labelName(l)} dims, which cannot be matched`);
      }
    });
    union += l.repeat(n);
  }
  const dimsFor = (k: number): number[] => {
    const x = operands[k] as Tensor;
    const f = formats[k];
    if (f !== undefined) {
      const seen: Record<string, number> = {};
      return Array.from(union, (l) => {
        const j = seen[l] ?? 0;
        seen[l] = j + 1;
        const at = dimsOf(f, l)[j];
        return at === undefined ? 1 : x.dims[at];
      });
    }
    const d = [...x.dims];
    while (d.length > union.length && d[d.length - 1] === 1) d.pop();
    if (d.length > union.length) {
      throw new ShapeError(`${op}: ${names[k]} is unformatted with shape ${formatShape(x.dims)}, more dims than the format ` +
        `'${union}' of the formatted operand${formats.filter((g) => g !== undefined).length > 1 ? 's' : ''}; ` +
        'label it with dlarray(x, fmt) or reshape it');
    }
    while (d.length < union.length) d.push(1);
    return d;
  };
  const shapes = operands.map((x, k) => (x instanceof Tensor && (formats[k] !== undefined || x.rank > 0) ? dimsFor(k) : undefined));
  // Trailing singleton 'U' dims after the second (a 'CU' column vector beside 'SSCB' data) go.
  let keep = union.length;
  while (keep > 2 && union[keep - 1] === 'U' && shapes.every((s) => s === undefined || s[keep - 1] === 1)) keep--;
  union = union.slice(0, keep);
  // Sizes per label.
  for (let j = 0; j < union.length; j++) {
    let size = 1, from = -1;
    shapes.forEach((s, k) => {
      if (s === undefined || s[j] === 1) return;
      if (size !== 1 && s[j] !== size) {
        throw new ShapeError(`${op}: dim ${j} ${labelName(union[j])} of the format '${union}' is ${size} in ${names[from]} ` +
          `(shape ${formatShape((operands[from] as Tensor).dims)}) but ${s[j]} in ${names[k]} (shape ${formatShape((operands[k] as Tensor).dims)})`);
      }
      size = s[j]; from = k;
    });
  }
  const temps: Tensor[] = [];
  const args = operands.map((x, k) => {
    const s = shapes[k];
    if (s === undefined) return x;
    const t = x as Tensor;
    const target = s.slice(0, keep);
    if (sameDims(t.dims, target)) return t;
    const r = reshape(t, target);
    temps.push(r);
    return r;
  });
  return { args, format: union, temps };
}
