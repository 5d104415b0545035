// Optimizer state in safetensors: io.save(opt) / io.load(bytes, opt). The state tensors are the
// file's tensors, named as PyTorch's state dict nests them ('state.0.exp_avg', 'state.3.momentum_buffer';
// L-BFGS's history 'state.0.old_dirs.4'); everything else — step counts, the groups'
// hyperparameters, L-BFGS's scalars — is JSON in the header's __metadata__ (strings), with every
// number kept exactly (non-finite numbers and -0 included), so a resumed run takes the same steps
// bit for bit.

import { Tensor } from '../tensor.js';
import { ValueError } from '../errors.js';
import { Optimizer, type OptimizerStateDict } from '../optim/optimizer.js';
import { LBFGS, type LBFGSStateDict } from '../optim/lbfgs.js';
import type { StateDict } from '../nn/module.js';

export type AnyOptimizer = Optimizer | LBFGS;
export function isOptimizer(x: unknown): x is AnyOptimizer { return x instanceof Optimizer || x instanceof LBFGS; }

/** The metadata keys an optimizer file uses (a user's metadata may not take them). */
export const OPTIMIZER_KEYS = ['format', 'optimizer', 'param_groups', 'state'] as const;
const FORMAT = 'wasmgrad.optimizer';

/** JSON with exact numbers: NaN, ±Infinity and -0 as { "$number": "…" }. */
function encode(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && (!Number.isFinite(x) || Object.is(x, -0)) ? { $number: Object.is(x, -0) ? '-0' : String(x) } : x));
}
function decode(op: string, key: string, text: string): unknown {
  try {
    return JSON.parse(text, (_k, x) => (x !== null && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length === 1 && typeof x.$number === 'string' ? Number(x.$number) : x));
  } catch (e) {
    throw new ValueError(`${op}: the file's metadata '${key}' is not valid JSON: ${(e as Error).message}`);
  }
}

/** The optimizer's state as a file's tensors and metadata. */
export function optimizerToFile(opt: AnyOptimizer): { tensors: StateDict; metadata: Record<string, string> } {
  const sd = opt.stateDict() as OptimizerStateDict | LBFGSStateDict;
  const tensors: StateDict = {};
  const scalars: Record<string, Record<string, unknown>> = {};
  for (const [i, entry] of Object.entries(sd.state)) {
    const rest: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(entry as Record<string, unknown>)) {
      if (v instanceof Tensor) tensors[`state.${i}.${name}`] = v;
      else if (Array.isArray(v) && v.length > 0 && v.every((t) => t instanceof Tensor)) v.forEach((t, k) => { tensors[`state.${i}.${name}.${k}`] = t; });
      else if (Array.isArray(v) && v.length === 0 && (name === 'old_dirs' || name === 'old_stps')) continue;
      else rest[name] = v;
    }
    scalars[i] = rest;
  }
  return {
    tensors,
    metadata: { format: FORMAT, optimizer: opt._name, param_groups: encode(sd.param_groups), state: encode(scalars) },
  };
}

/** Loads a file's tensors and metadata into the optimizer (its loadStateDict checks everything first). */
export function optimizerFromFile(op: string, opt: AnyOptimizer, tensors: StateDict, metadata: Record<string, string>): void {
  if (metadata.format !== FORMAT) {
    throw new ValueError(`${op}: the file holds no optimizer state (its metadata 'format' is ${metadata.format === undefined ? 'absent' : `'${metadata.format}'`}, not '${FORMAT}'); io.save(optimizer) writes one`);
  }
  if (metadata.optimizer !== opt._name) throw new ValueError(`${op}: the file holds ${metadata.optimizer}'s state, which cannot be loaded into ${opt._name}`);
  for (const k of ['param_groups', 'state']) if (typeof metadata[k] !== 'string') throw new ValueError(`${op}: the file's metadata lacks '${k}'`);
  const groups = decode(op, 'param_groups', metadata.param_groups);
  const scalars = decode(op, 'state', metadata.state);
  if (!Array.isArray(groups)) throw new ValueError(`${op}: the file's metadata 'param_groups' must be an array`);
  if (scalars === null || typeof scalars !== 'object' || Array.isArray(scalars)) throw new ValueError(`${op}: the file's metadata 'state' must be an object`);
  const state: Record<string, Record<string, unknown>> = {};
  for (const [i, v] of Object.entries(scalars as Record<string, unknown>)) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ValueError(`${op}: the file's state for parameter ${i} must be an object`);
    state[i] = { ...(v as Record<string, unknown>) };
  }
  const lists = new Map<string, Tensor[]>();
  for (const [name, t] of Object.entries(tensors)) {
    const m = /^state\.(\d+)\.([A-Za-z_]+)(?:\.(\d+))?$/.exec(name);
    if (!m) throw new ValueError(`${op}: the file has a tensor '${name}', which is not optimizer state (expected 'state.<index>.<name>')`);
    const [, i, key, k] = m;
    const entry = (state[i] ??= {});
    if (k === undefined) { entry[key] = t; continue; }
    const id = `${i}.${key}`;
    if (!lists.has(id)) { lists.set(id, []); entry[key] = lists.get(id); }
    lists.get(id)![Number(k)] = t;
  }
  for (const [id, list] of lists) {
    for (let k = 0; k < list.length; k++) if (!(list[k] instanceof Tensor)) throw new ValueError(`${op}: the file lacks 'state.${id}.${k}'`);
  }
  if (opt instanceof LBFGS) {
    const s = state[0];
    if (s) { s.old_dirs ??= []; s.old_stps ??= []; }
    opt.loadStateDict({ state: state as unknown as LBFGSStateDict['state'], param_groups: groups as Record<string, unknown>[] });
  } else {
    opt.loadStateDict({ state: state as unknown as OptimizerStateDict['state'], param_groups: groups as Record<string, unknown>[] });
  }
}
