// Reverse mode: valueAndGrad / grad (JAX's habits), dlfeval / dlgradient (MATLAB's), trace.
//
// A differentiation level is: open a scope and a tape level, give f fresh copies of the
// differentiated inputs (watched, so ops on their path record), run f, then ONE wasm call
// sweeps the tape backwards. Everything f made is freed when the level ends, except the value
// and the gradients. Inside an enclosing level the sweep records itself (createGraph), so
// grad(grad(f)) differentiates the first gradient.

import { Tensor, wrap, zeros } from './tensor.js';
import { wasm, views, I32, checked, argsI32, requireInit, raise, recordWord } from './runtime.js';
import { openScope, closeScope, tensorsIn } from './scope.js';
import { NotDifferentiableError, ValueError, formatShape } from './errors.js';
import { isFloat } from './ops/common.js';
import { Op } from '../assembly/vocabulary.js';

const MODE_CREATE_GRAPH = 1;
const MODE_RETAIN_ALL = 2;
const F_NEEDS_GRAD = 2;

/** Replaces every Tensor in a value (tensor, array, plain object) using fn, keeping the structure. */
export function mapTensors(value: unknown, fn: (t: Tensor) => unknown): any {
  if (value instanceof Tensor) return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapTensors(v, fn));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mapTensors(v, fn);
    return out;
  }
  return value;
}

/** A watched copy of x: a differentiated input of the level being opened. */
function watched(x: Tensor, op: string, what: string): Tensor {
  const id = x.use(`${op} (${what})`);
  if (!isFloat(x.dtype)) {
    throw new NotDifferentiableError(`${op}: ${what} is a ${x.dtype} tensor of shape ${formatShape(x.dims)}; only float32 and float64 tensors can be differentiated`);
  }
  const c = wrap(checked(wasm.copy(id), op));
  wasm.watch(c.id);
  return c;
}

function checkScalarOutput(op: string, y: unknown): Tensor {
  if (!(y instanceof Tensor)) {
    throw new NotDifferentiableError(`${op}: the function must return a scalar Tensor, got ${y === null ? 'null' : Array.isArray(y) ? 'an array' : typeof y}`);
  }
  y.use(`${op} (output)`);
  if (y.size !== 1) {
    throw new NotDifferentiableError(`${op}: the output must be a scalar (one element) to take its gradient, got shape ${formatShape(y.dims)}; reduce it first, e.g. with .sum()`);
  }
  if (!isFloat(y.dtype)) throw new NotDifferentiableError(`${op}: the output is a ${y.dtype} tensor; it must be float32 or float64`);
  return y;
}

/** Runs the reverse sweep from y to the targets; returns their gradients (zeros off the path). */
function sweep(op: string, y: Tensor, mark: number, targets: Tensor[], mode: number): Tensor[] {
  if (wasm.tapeDepthNow() > 1) mode |= MODE_CREATE_GRAPH;
  if (targets.length > 16000) throw new ValueError(`${op}: at most 16000 tensors can be differentiated at once`);
  const code = wasm.backward(y.id, mark, argsI32(targets.map((t) => t.id)), targets.length, mode);
  if (code !== 0) raise(op);
  // Take each adjoint once (a target may be listed twice); taking clears the slot for later sweeps.
  const taken = new Map<number, Tensor>();
  return targets.map((t) => {
    let g = taken.get(t.id);
    if (g === undefined) {
      const a = wasm.takeAdjoint(t.id);
      g = a !== 0 ? wrap(a) : zeros(t.dims, { dtype: t.dtype });
      taken.set(t.id, g);
    }
    return g;
  });
}

export interface GradOptions {
  /** which positional arguments to differentiate: one index (default 0) or several */
  argnums?: number | number[];
  /** f returns [value, aux]; aux is passed through undifferentiated */
  hasAux?: boolean;
  /** record the reverse sweep so the gradients can be differentiated again */
  higherOrder?: boolean;
}

/**
 * valueAndGrad(f)(...args) → [f(...args), ∂f/∂args[argnums]]. Gradients come back in the
 * structure of the differentiated argument (tensor, array or object of tensors); with several
 * argnums, as an array of those.
 */
export function valueAndGrad<A extends unknown[]>(f: (...args: A) => any, options: GradOptions = {}) {
  const argnums = options.argnums ?? 0;
  const list = typeof argnums === 'number' ? [argnums] : argnums;
  return (...args: A): any => {
    requireInit('valueAndGrad');
    for (const k of list) {
      if (!Number.isInteger(k) || k < 0 || k >= args.length) {
        throw new ValueError(`valueAndGrad: argnums ${k} is out of range for ${args.length} argument(s)`);
      }
    }
    openScope('valueAndGrad');
    const mark = wasm.tapeBegin();
    let keep: Tensor[] = [];
    try {
      const targets: Tensor[] = [];
      const callArgs = args.slice() as A;
      for (const k of list) {
        const tree = mapTensors(args[k], (t) => { const c = watched(t, 'valueAndGrad', `argument ${k}`); targets.push(c); return c; });
        if (tensorsIn(tree).length === 0) {
          throw new NotDifferentiableError(`valueAndGrad: argument ${k} holds no tensor to differentiate`);
        }
        callArgs[k] = tree;
      }
      const result = f(...callArgs);
      const [y, aux] = options.hasAux ? (result as [unknown, unknown]) : [result, undefined];
      const value = checkScalarOutput('valueAndGrad', y);
      const grads = sweep('valueAndGrad', value, mark, targets, options.higherOrder ? MODE_CREATE_GRAPH : 0);
      let i = 0;
      const structured = list.map((k) => mapTensors(callArgs[k], () => grads[i++]));
      const g = typeof argnums === 'number' ? structured[0] : structured;
      keep = [value, ...grads, ...tensorsIn(aux)];
      return options.hasAux ? [[value, aux], g] : [value, g];
    } finally {
      wasm.tapeEnd();
      closeScope(keep);
    }
  };
}

/** grad(f)(...args) → ∂f/∂args[argnums] (see valueAndGrad); with hasAux, [gradient, aux]. */
export function grad<A extends unknown[]>(f: (...args: A) => any, options: GradOptions = {}) {
  const vg = valueAndGrad(f, options);
  return (...args: A): any => {
    const [value, g] = vg(...args);
    if (!options.hasAux) { value.dispose(); return g; }
    const [y, aux] = value; // JAX's order with has_aux: (gradient, aux)
    y.dispose();
    return [g, aux];
  };
}

// MATLAB style: dlfeval traces every tensor it is given; dlgradient differentiates inside it.
const levels: number[] = [];

/**
 * dlfeval(fn, ...args): runs fn with every tensor in args traced, as MATLAB's dlfeval does, so
 * that dlgradient can be called inside. Returns what fn returns; everything else fn made is freed.
 */
export function dlfeval<R>(fn: (...args: any[]) => R, ...args: unknown[]): R {
  requireInit('dlfeval');
  openScope('dlfeval');
  levels.push(wasm.tapeBegin());
  let keep: Tensor[] = [];
  try {
    const traced = args.map((a, k) => mapTensors(a, (t) => (isFloat(t.dtype) ? watched(t, 'dlfeval', `argument ${k}`) : t)));
    const result = fn(...traced);
    keep = tensorsIn(result);
    return result;
  } finally {
    levels.pop();
    wasm.tapeEnd();
    closeScope(keep);
  }
}

export interface DlgradientOptions {
  /** record the sweep so its results can be differentiated again (MATLAB's name) */
  EnableHigherDerivatives?: boolean;
  /** kept for MATLAB compatibility: the trace is always retained until dlfeval returns */
  RetainData?: boolean;
}

/**
 * dlgradient(y, x): the gradient of scalar y with respect to x (a tensor, an array or an object
 * of tensors, returned in the same structure). Only inside dlfeval, as in MATLAB.
 */
export function dlgradient(y: Tensor, x: unknown, options: DlgradientOptions = {}): any {
  requireInit('dlgradient');
  if (levels.length === 0) throw new NotDifferentiableError('dlgradient: call it inside a function evaluated with dlfeval');
  const value = checkScalarOutput('dlgradient', y);
  const targets = tensorsIn(x);
  if (targets.length === 0) throw new ValueError('dlgradient: x holds no tensor');
  views();
  for (const t of targets) {
    const id = t.use('dlgradient (x)');
    if ((I32[recordWord(id) + 5] & F_NEEDS_GRAD) === 0) {
      throw new NotDifferentiableError(`dlgradient: x (shape ${formatShape(t.dims)}) is not traced: differentiate with respect to dlfeval's inputs or values computed from them`);
    }
  }
  const grads = sweep('dlgradient', value, levels[levels.length - 1], targets,
    options.EnableHigherDerivatives ? MODE_CREATE_GRAPH : 0);
  let i = 0;
  return mapTensors(x, () => grads[i++]);
}

// ————————————————————————————————————————————————————— trace: the seed's two tables

export interface TraceNode {
  /** the seed's numbering: inputs 1-n … 0, then 1, 2, … in evaluation order */
  index: number;
  /** the op that made it ('input' for a differentiated input) */
  op: string;
  /** inputs as node indices, or the value of a constant operand */
  inputs: ({ node: number } | { constant: number | number[] | any })[];
  /** attributes of the op, if any */
  attrs: number[];
  value: number | any[];
  /** ∂output/∂node */
  adjoint: number | any[];
  /** the tangent u̇ (traceJvp only) */
  tangent?: number | any[];
  shape: number[];
}

export class Trace {
  constructor(readonly nodes: TraceNode[], readonly outputIndex: number) {}

  /** The seed's forward trace and reverse-sweep tables. */
  toString(): string {
    const name = (i: number) => `u${subscript(i)}`;
    const bar = (i: number) => `ū${subscript(i)}`;
    const def = (n: TraceNode): string => describe(n, name);
    const rows = this.nodes.map((n) => [name(n.index), def(n), fmt(n.value)]);
    const fwd = table(['node', 'definition', 'value'], rows);
    const adjRows: string[][] = [];
    for (const n of [...this.nodes].reverse()) {
      const rule = n.index === this.outputIndex ? 'seed' : adjointRule(n, this.nodes, bar, name);
      adjRows.push([bar(n.index), rule, fmt(n.adjoint)]);
    }
    const rev = table(['adjoint', 'rule', 'value'], adjRows);
    let text = `Forward trace\n${fwd}\n\nReverse sweep (adjoints ū = ∂f/∂u), seeded with ${bar(this.outputIndex)} = 1\n${rev}`;
    if (this.nodes.length > 0 && this.nodes[0].tangent !== undefined) {
      const dot = (i: number) => `u̇${subscript(i)}`;
      const seed = this.nodes.filter((n) => n.op === 'input').map((n) => `${dot(n.index)} = ${fmt(n.tangent)}`).join(', ');
      text += `\n\nForward mode (tangents u̇), seeded with ${seed}\n${table(['tangent', 'value'], this.nodes.map((n) => [dot(n.index), fmt(n.tangent)]))}`;
    }
    return text;
  }
}

const SYMBOL: Partial<Record<number, string>> = { [Op.add]: '+', [Op.sub]: '−', [Op.mul]: '·', [Op.div]: '/', [Op.pow]: '^' };

function operandText(x: TraceNode['inputs'][number], name: (i: number) => string): string {
  return 'node' in x ? name(x.node) : JSON.stringify(x.constant);
}

function describe(n: TraceNode, name: (i: number) => string): string {
  if (n.op === 'input') return 'input';
  const ins = n.inputs.map((x) => operandText(x, name));
  const sym = SYMBOL[(Op as any)[n.op]];
  if (sym && ins.length === 2) return `${ins[0]} ${sym} ${ins[1]}`;
  if (n.op === 'square') return `${ins[0]}²`;
  if (n.op === 'neg') return `−${ins[0]}`;
  return `${n.op}(${ins.join(', ')}${n.attrs.length ? `; ${n.attrs.join(', ')}` : ''})`;
}

/** ū_i as the sum over the nodes that use u_i, in the seed's notation. */
function adjointRule(n: TraceNode, nodes: TraceNode[], bar: (i: number) => string, name: (i: number) => string): string {
  const terms: string[] = [];
  for (const c of nodes) {
    c.inputs.forEach((x, k) => {
      if (!('node' in x) || x.node !== n.index) return;
      const other = c.inputs[1 - k];
      const o = other ? operandText(other, name) : '';
      switch (c.op) {
        case 'add': terms.push(bar(c.index)); break;
        case 'sub': terms.push(k === 0 ? bar(c.index) : `−${bar(c.index)}`); break;
        case 'mul': terms.push(`${bar(c.index)} · ${o}`); break;
        case 'div': terms.push(k === 0 ? `${bar(c.index)} / ${o}` : `−${bar(c.index)} · ${name(c.index)} / ${o}`); break;
        case 'square': terms.push(`${bar(c.index)} · 2${name(n.index)}`); break;
        case 'exp': terms.push(`${bar(c.index)} · ${name(c.index)}`); break;
        case 'neg': terms.push(`−${bar(c.index)}`); break;
        default: terms.push(`${bar(c.index)} · ∂${name(c.index)}/∂${name(n.index)}`);
      }
    });
  }
  return terms.length ? terms.join(' + ') : '0';
}

function subscript(i: number): string {
  const digits = '₀₁₂₃₄₅₆₇₈₉';
  return (i < 0 ? '₋' : '') + String(Math.abs(i)).split('').map((d) => digits[+d]).join('');
}

/** Values to 15 significant digits, as in the seed's tables. */
function fmt(v: unknown): string {
  if (typeof v !== 'number') return Array.isArray(v) ? `[${v.map(fmt).join(', ')}]` : String(v);
  const short = String(v);
  // Short exact values (2, 0.5, -2.125) as they are; the rest to 15 significant digits.
  return short.replace(/[-.]|e.*$/g, '').replace(/^0+/, '').length <= 8 ? short : v.toPrecision(15);
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (cells: string[]) => `| ${cells.map((c, k) => c.padEnd(w[k])).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/**
 * trace(f, ...args): evaluates f with every tensor in args differentiated and returns the
 * recorded graph as data — each node u_i with its op, inputs, value and adjoint ∂f/∂u_i — whose
 * toString() prints the seed's forward trace and reverse-sweep tables.
 */
export function trace(f: (...args: any[]) => Tensor, ...args: unknown[]): Trace {
  return record('trace', f, args, undefined);
}

/**
 * traceJvp(f, primals, tangents): trace() with forward mode running beside it — every node
 * also carries its tangent u̇ (the seed's forward-mode table for that input direction).
 */
export function traceJvp(f: (...args: Tensor[]) => Tensor, primals: Tensor[], tangents: Tensor[]): Trace {
  if (!Array.isArray(primals) || !Array.isArray(tangents) || primals.length !== tangents.length) {
    throw new ValueError('traceJvp: primals and tangents must be arrays of the same length');
  }
  return record('traceJvp', f, primals, tangents);
}

function record(op: string, f: (...args: any[]) => Tensor, args: unknown[], tangents: Tensor[] | undefined): Trace {
  requireInit(op);
  if (tangents && wasm.forwardDepthNow() > 0) throw new NotDifferentiableError(`${op}: cannot run inside forward mode`);
  openScope(op);
  const mark = wasm.tapeBegin();
  const forwardMark = tangents ? wasm.forwardBegin() : -1;
  const inputs: Tensor[] = [];
  try {
    const callArgs = args.map((a, k) => mapTensors(a, (t) => { const c = watched(t, op, `argument ${k}`); inputs.push(c); return c; }));
    tangents?.forEach((t, k) => {
      const x = inputs[k];
      if (!(t instanceof Tensor) || formatShape(t.dims) !== formatShape(x.dims) || t.dtype !== x.dtype) {
        throw new ValueError(`${op}: tangents[${k}] must be a ${x.dtype} tensor of shape ${formatShape(x.dims)}`);
      }
      wasm.setTangent(x.id, checked(wasm.copy(t.use(`${op} (tangents[${k}])`)), op));
    });
    const y = checkScalarOutput(op, f(...callArgs));
    if (tangents) wasm.flushJvp();
    // The nodes: the inputs, then every record of the forward pass (not a tangent's computation).
    const end = wasm.tapeLength();
    const primalRecords: number[] = [];
    for (let r = mark; r < end; r++) if (!wasm.tapeRecordIsTangent(r)) primalRecords.push(r);
    const tangentValue = (id: number, like: Tensor) => {
      const t = wasm.tangentOf(id);
      return t !== 0 ? new Tensor(t).toArray() : zerosLike(like);
    };
    const tangentsOf = tangents ? new Map<number, any>() : undefined;
    if (tangentsOf) {
      for (const t of inputs) tangentsOf.set(t.id, tangentValue(t.id, t));
      for (const r of primalRecords) { const out = wasm.tapeRecordOut(r); tangentsOf.set(out, tangentValue(out, new Tensor(out))); }
    }
    const code = wasm.backward(y.id, mark, argsI32(inputs.map((t) => t.id)), inputs.length, MODE_RETAIN_ALL);
    if (code !== 0) raise(op);
    const index = new Map<number, number>();
    const nodes: TraceNode[] = [];
    const valueOf = (id: number) => new Tensor(id).toArray();
    const adjointValue = (id: number, like: Tensor) => {
      const a = wasm.adjoint(id);
      return a !== 0 ? valueOf(a) : zerosLike(like);
    };
    const node = (index: number, opName: string, ins: TraceNode['inputs'], attrs: number[], t: Tensor): TraceNode => {
      const n: TraceNode = { index, op: opName, inputs: ins, attrs, value: t.toArray(), adjoint: adjointValue(t.id, t), shape: t.shape };
      if (tangentsOf) n.tangent = tangentsOf.get(t.id);
      return n;
    };
    inputs.forEach((t, k) => {
      const i = k - inputs.length + 1;
      index.set(t.id, i);
      nodes.push(node(i, 'input', [], [], t));
    });
    let next = 1;
    for (const r of primalRecords) {
      const out = wasm.tapeRecordOut(r);
      const ins: TraceNode['inputs'] = [];
      for (let k = 0; k < wasm.tapeRecordNumInputs(r); k++) {
        const id = wasm.tapeRecordInput(r, k);
        ins.push(index.has(id) ? { node: index.get(id)! } : { constant: valueOf(id) });
      }
      const attrs: number[] = [];
      for (let k = 0; k < wasm.tapeRecordNumAttrs(r); k++) attrs.push(wasm.tapeRecordAttr(r, k));
      index.set(out, next);
      nodes.push(node(next++, Op[wasm.tapeRecordOp(r)] ?? `op${wasm.tapeRecordOp(r)}`, ins, attrs, new Tensor(out)));
    }
    wasm.clearAdjoints(mark, y.id);
    return new Trace(nodes, index.get(y.id) ?? 0);
  } finally {
    if (tangents) {
      for (const c of inputs) if (c.isAlive) wasm.clearTangent(c.id);
      wasm.forwardEnd(forwardMark);
    }
    wasm.tapeEnd();
    closeScope([]);
  }
}

function zerosLike(t: Tensor): any {
  const z = (k: number): any => (k === t.dims.length ? 0 : Array.from({ length: t.dims[k] }, () => z(k + 1)));
  return z(0);
}

