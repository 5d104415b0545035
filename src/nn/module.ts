// The module system (torch.nn.Module's habits, MATLAB's forward/predict): modules own named
// parameters and state buffers as kept tensors, nest under names, and give PyTorch's state-dict
// names ('0.weight', 'features.1.bias', 'bn.running_mean', …) so weights move between the two.
//
// Parameters are plain kept tensors owned by their module: replacing one disposes the old, and
// optimizers update them in place. functionalCall runs a module with other tensors in place of
// its own — that is how valueAndGrad differentiates a network (its watched copies go in).

import { Tensor, type DTypeName } from '../tensor.js';
import { keep } from '../scope.js';
import { ValueError, ShapeError, DTypeError, formatShape } from '../errors.js';
import { castTo } from '../ops/common.js';
import { wasm, requireInit } from '../runtime.js';

export type StateDict = Record<string, Tensor>;

export interface LoadOptions {
  /** every name must match both ways (default true, as PyTorch) */
  strict?: boolean;
}

export abstract class Module {
  /** training behaviour (dropout on, batch statistics); false after .eval() */
  training = true;
  /** @internal */ readonly _parameters = new Map<string, Tensor | null>();
  /** @internal */ readonly _buffers = new Map<string, Tensor | null>();
  /** @internal */ readonly _modules = new Map<string, Module>();
  /** @internal tensors standing in for this module's own parameters and buffers (functionalCall) */
  _override: Map<string, Tensor> | undefined;

  /** The module's computation, following its mode (training behaviour unless in eval mode). */
  abstract forward(...inputs: any[]): any;

  /** PyTorch's module(x): forward. */
  call(...inputs: any[]): any { return this.forward(...inputs); }

  /**
   * Inference behaviour whatever the mode (MATLAB's predict): dropout off, batch norm with its
   * running statistics, which it leaves untouched. The modes are restored afterwards.
   */
  predict(...inputs: any[]): any {
    const modes = [...this.modules()].map((m) => [m, m.training] as const);
    this.eval();
    try {
      return this.forward(...inputs);
    } finally {
      for (const [m, mode] of modes) m.training = mode;
    }
  }

  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new ValueError(`train: mode must be a boolean, got ${typeof mode}`);
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Registers (or replaces, disposing the old) a parameter; the module keeps and owns it. */
  registerParameter(name: string, t: Tensor | null): Tensor | null {
    this.checkName('registerParameter', name, this._buffers, 'a buffer');
    return this.own(this._parameters, name, t);
  }

  /** Registers (or replaces) a state buffer, e.g. running statistics. */
  registerBuffer(name: string, t: Tensor | null): Tensor | null {
    this.checkName('registerBuffer', name, this._parameters, 'a parameter');
    return this.own(this._buffers, name, t);
  }

  /** Adds a child module under `name` (its parameters become 'name.…'); returns it. */
  registerModule<M extends Module>(name: string, m: M): M {
    if (!(m instanceof Module)) throw new ValueError(`registerModule: '${name}' must be a Module, got ${m === null ? 'null' : typeof m}`);
    this.checkName('registerModule', name, this._parameters, 'a parameter');
    if (this._buffers.has(name)) throw new ValueError(`registerModule: '${name}' is already a buffer`);
    this._modules.set(name, m);
    return m;
  }

  private checkName(op: string, name: string, other: Map<string, unknown>, what: string): void {
    if (typeof name !== 'string' || name === '' || name.includes('.')) {
      throw new ValueError(`${op}: name must be a non-empty string without '.', got ${JSON.stringify(name)}`);
    }
    if (other.has(name)) throw new ValueError(`${op}: '${name}' is already ${what}`);
  }

  private own(map: Map<string, Tensor | null>, name: string, t: Tensor | null): Tensor | null {
    if (t !== null && !(t instanceof Tensor)) throw new ValueError(`${name}: expected a Tensor or null, got ${typeof t}`);
    const old = map.get(name);
    if (t !== null) keep(t);
    map.set(name, t);
    if (old && old !== t && !this.stillUsed(old)) old.dispose();
    return t;
  }

  private stillUsed(t: Tensor): boolean {
    for (const m of this.modules()) {
      for (const v of m._parameters.values()) if (v === t) return true;
      for (const v of m._buffers.values()) if (v === t) return true;
    }
    return false;
  }

  /** @internal a parameter for forward: the functionalCall stand-in, else the module's own. */
  param(name: string): Tensor | undefined {
    const o = this._override?.get(name);
    if (o) return o;
    return this._parameters.get(name) ?? undefined;
  }

  /** @internal a buffer for forward (functionalCall stand-ins too). */
  buffer(name: string): Tensor | undefined {
    const o = this._override?.get(name);
    if (o) return o;
    return this._buffers.get(name) ?? undefined;
  }

  /** This module and every descendant, depth first (PyTorch's modules()). */
  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /** [name, module] for this module ('') and every descendant, each module once. */
  namedModules(prefix = '', seen = new Set<Module>()): [string, Module][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, m] of this._modules) out.push(...m.namedModules(prefix ? `${prefix}.${name}` : name, seen));
    return out;
  }

  children(): Module[] { return [...this._modules.values()]; }
  namedChildren(): [string, Module][] { return [...this._modules]; }

  /** [name, parameter] in PyTorch's order, each tensor once. */
  namedParameters(): [string, Tensor][] { return this.collect((m) => m._parameters); }
  parameters(): Tensor[] { return this.namedParameters().map(([, t]) => t); }
  namedBuffers(): [string, Tensor][] { return this.collect((m) => m._buffers); }
  buffers(): Tensor[] { return this.namedBuffers().map(([, t]) => t); }

  private collect(pick: (m: Module) => Map<string, Tensor | null>): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of pick(m)) {
        if (t === null || seen.has(t)) continue;
        seen.add(t);
        out.push([prefix ? `${prefix}.${name}` : name, t]);
      }
    }
    return out;
  }

  /** Parameters as a plain object by name: what valueAndGrad differentiates with functionalCall. */
  parameterDict(): StateDict { return Object.fromEntries(this.namedParameters()); }

  /**
   * Parameters and buffers by PyTorch's state-dict names, in PyTorch's order (each module's own
   * parameters, then its buffers, then its children). The tensors are the module's own (not copies).
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    const walk = (m: Module, prefix: string): void => {
      for (const [n, t] of m._parameters) if (t) out[prefix + n] = t;
      for (const [n, t] of m._buffers) if (t) out[prefix + n] = t;
      for (const [n, c] of m._modules) walk(c, `${prefix}${n}.`);
    };
    walk(this, '');
    return out;
  }

  /**
   * Copies a state dict's values into the module's tensors (in place, so optimizers keep their
   * references). Everything is checked first — names, shapes, dtypes — so a failed load changes
   * nothing. float64 ⇄ float32 is an error (wasmgrad never converts silently); an int32 buffer
   * takes int32 values.
   */
  loadStateDict(dict: StateDict | Map<string, Tensor>, options: LoadOptions = {}): { missingKeys: string[]; unexpectedKeys: string[] } {
    requireInit('loadStateDict');
    const entries = dict instanceof Map ? dict : new Map(Object.entries(dict ?? {}));
    if (dict === null || typeof dict !== 'object') throw new ValueError(`loadStateDict: expected an object of tensors by name, got ${dict === null ? 'null' : typeof dict}`);
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !entries.has(k));
    const unexpectedKeys = [...entries.keys()].filter((k) => !(k in own));
    if (strict && (missingKeys.length || unexpectedKeys.length)) {
      const parts: string[] = [];
      if (missingKeys.length) parts.push(`missing key(s): ${missingKeys.map((k) => `'${k}'`).join(', ')}`);
      if (unexpectedKeys.length) parts.push(`unexpected key(s): ${unexpectedKeys.map((k) => `'${k}'`).join(', ')}`);
      throw new ValueError(`loadStateDict: the state dict does not match the module (${parts.join('; ')}); nothing was loaded`);
    }
    const pairs: [Tensor, Tensor][] = [];
    for (const [name, target] of Object.entries(own)) {
      const src = entries.get(name);
      if (src === undefined) continue;
      if (!(src instanceof Tensor)) throw new ValueError(`loadStateDict: '${name}' must be a Tensor, got ${src === null ? 'null' : typeof src}; nothing was loaded`);
      src.use(`loadStateDict ('${name}')`);
      if (formatShape(src.dims) !== formatShape(target.dims)) {
        throw new ShapeError(`loadStateDict: size mismatch for '${name}': the state dict has shape ${formatShape(src.dims)}, the module has ${formatShape(target.dims)}; nothing was loaded`);
      }
      if (src.dtype !== target.dtype) {
        throw new DTypeError(`loadStateDict: dtype mismatch for '${name}': the state dict has ${src.dtype}, the module has ${target.dtype}; nothing was loaded`);
      }
      pairs.push([target, src]);
    }
    for (const [target, src] of pairs) if (target !== src) copyInto(target, src);
    return { missingKeys, unexpectedKeys };
  }

  /** The number of parameter elements (each shared tensor once). */
  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /** Converts every floating parameter and buffer to dtype (replacing, and disposing, the old ones). */
  to(dtype: DTypeName): this {
    if (dtype !== 'float32' && dtype !== 'float64') throw new DTypeError(`Module.to: dtype must be 'float32' or 'float64', got '${String(dtype)}'`);
    const converted = new Map<Tensor, Tensor>();
    const convert = (t: Tensor): Tensor => {
      if ((t.dtype !== 'float32' && t.dtype !== 'float64') || t.dtype === dtype) return t;
      let c = converted.get(t);
      if (!c) { c = keep(castTo(t, dtype)); converted.set(t, c); }
      return c;
    };
    for (const m of this.modules()) {
      for (const map of [m._parameters, m._buffers]) for (const [n, t] of map) if (t) map.set(n, convert(t));
    }
    for (const old of converted.keys()) old.dispose();
    return this;
  }

  /** Frees every parameter and buffer (the module is unusable afterwards). */
  dispose(): void {
    for (const m of this.modules()) {
      for (const map of [m._parameters, m._buffers]) {
        for (const t of map.values()) t?.dispose();
        map.clear();
      }
    }
  }

  /** The settings shown beside the class name (PyTorch's extra_repr). */
  extraRepr(): string { return ''; }

  /** PyTorch's printed form: the class, its settings, its children indented. */
  toString(): string {
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (this._modules.size === 0) return `${head})`;
    const lines = [...this._modules].map(([n, m]) => `  (${n}): ${m.toString().split('\n').join('\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }

  /** A table of every module with its parameters (shapes and counts) and the totals. */
  summary(): string {
    const rows: string[][] = [];
    for (const [name, m] of this.namedModules()) {
      const own = [...m._parameters].filter(([, t]) => t) as [string, Tensor][];
      const count = own.reduce((n, [, t]) => n + t.size, 0);
      const shapes = own.map(([n, t]) => `${n} ${formatShape(t.dims)}`).join(', ');
      const depth = name === '' ? 0 : name.split('.').length;
      rows.push([`${'  '.repeat(depth)}${name || '(root)'}`, `${m.constructor.name}${m.extraRepr() ? `(${m.extraRepr()})` : ''}`, shapes, count ? String(count) : '']);
    }
    const head = ['name', 'layer', 'parameters', 'count'];
    const w = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
    const line = (cells: string[]) => cells.map((c, k) => (k === 3 ? c.padStart(w[k]) : c.padEnd(w[k]))).join('  ').trimEnd();
    const params = this.parameters();
    const bytes = params.reduce((n, t) => n + t.size * (t.dtype === 'float64' ? 8 : 4), 0);
    const bufferCount = this.buffers().reduce((n, t) => n + t.size, 0);
    return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line), '',
      `Total parameters: ${this.numParameters()} (${bytes} bytes)` + (bufferCount ? `; buffer elements: ${bufferCount}` : '')].join('\n');
  }
}

// eval is attached outside the class body: a method written `eval() {…}` would put an eval( token
// into the bundles, which the packaging test forbids (no code generation at run time).
export interface Module {
  /** Inference behaviour for this module and its descendants (PyTorch's eval()): train(false). */
  eval(): this;
}
Module.prototype.eval = function (this: Module) { return this.train(false); };

/** Copies src's data into dst (same shape and dtype) without touching any tape. */
export function copyInto(dst: Tensor, src: Tensor): void {
  wasm.copyData(dst.use('copy (destination)'), src.use('copy (source)'));
}

/**
 * torch.func.functional_call: runs module.forward(...args) with the tensors of `params` (by
 * state-dict name) in place of the module's own parameters or buffers. The module itself is
 * left unchanged; names it does not have are an error.
 */
export function functionalCall(module: Module, params: StateDict | Map<string, Tensor>, ...args: any[]): any {
  if (!(module instanceof Module)) throw new ValueError(`functionalCall: expected a Module, got ${module === null ? 'null' : typeof module}`);
  const entries = params instanceof Map ? [...params] : Object.entries(params ?? {});
  const byPath = new Map(module.namedModules());
  const plan = new Map<Module, Map<string, Tensor>>();
  for (const [name, t] of entries) {
    const dot = name.lastIndexOf('.');
    const owner = byPath.get(dot < 0 ? '' : name.slice(0, dot));
    const local = name.slice(dot + 1);
    if (!owner || (!owner._parameters.has(local) && !owner._buffers.has(local))) {
      throw new ValueError(`functionalCall: the module has no parameter or buffer '${name}'`);
    }
    if (!(t instanceof Tensor)) throw new ValueError(`functionalCall: '${name}' must be a Tensor, got ${t === null ? 'null' : typeof t}`);
    let m = plan.get(owner);
    if (!m) plan.set(owner, (m = new Map()));
    m.set(local, t);
  }
  const saved = [...plan.keys()].map((m) => [m, m._override] as const);
  for (const [m, o] of plan) m._override = o;
  try {
    return module.forward(...args);
  } finally {
    for (const [m, o] of saved) m._override = o;
  }
}
