// The seed's two tables: a recorded trace (autodiff.ts trace/traceJvp) printed as the forward
// trace (every u_i, its definition and value) and the reverse sweep (every adjoint ū_i, the rule
// that sums it from the nodes that use u_i, and its value), and forward mode's tangents.

import { Op } from '../assembly/core/vocabulary.js';

/** One node u_i of a recorded trace: its op, inputs, value and adjoint ∂f/∂u_i (and tangent for traceJvp). */
export interface TraceNode {
  /** the seed's numbering: inputs 1-n … 0, then 1, 2, … in evaluation order */
  index: number;
  /** the op that made it ('input' for a differentiated input) */
  op: string;
  /** inputs as node indices, or the value of a constant operand */
  inputs: ({
    /** the input node's index */
    node: number;
  } | {
    /** a constant operand's value */
    constant: number | number[] | any;
  })[];
  /** attributes of the op, if any */
  attrs: number[];
  /** the node's value (a number, or nested arrays) */
  value: number | any[];
  /** ∂output/∂node */
  adjoint: number | any[];
  /** the tangent u̇ (traceJvp only) */
  tangent?: number | any[];
  /** the node's shape */
  shape: number[];
}

/** A recorded computation as data (what trace and traceJvp return); toString() prints the forward trace and reverse-sweep tables. */
export class Trace {
  /**
   * @param nodes - the nodes in evaluation order
   * @param outputIndex - the index of the output node (the seed of the reverse sweep)
   */
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

