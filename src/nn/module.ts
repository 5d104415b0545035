// The module system (torch.nn.Module's habits, MATLAB's forward/predict): modules own named
// parameters and state buffers as kept tensors, nest under names, and give PyTorch's state-dict
// names ('0.weight', 'features.1.bias', 'bn.running_mean', …) so weights move between the two.
//
// Parameters are plain kept tensors owned by their module: replacing one disposes the old, and
// optimizers update them in place. Differentiating with respect to a module (valueAndGrad(f)(net),
// dlfeval(f, net), functionalCall) puts stand-ins in place of its tensors by tensor identity, so
// a tensor tied under several names, or read from a field, is differentiated wherever it is used.

import { Tensor, type DTypeName } from '../tensor.js';
import { keep } from '../scope.js';
import { ValueError, ShapeError, DTypeError, DisposedError, formatShape } from '../errors.js';
import { castTo } from '../ops/common.js';
import { wasm, requireInit } from '../runtime.js';
import { options, opt, checkArity, describeValue, isPlainObject, nearestKey, type OptionsOf } from '../options.js';

/** Tensors by PyTorch state-dict name ('0.weight', 'bn.running_mean', …), as Module.stateDict() gives and loadStateDict takes (PyTorch: state_dict()). */
export type StateDict = Record<string, Tensor>;

const LOAD_OPTIONS = options('Module.loadStateDict', {
  /** every name must match both ways (default true, as PyTorch) */
  strict: opt.boolean,
});
/** Options of Module.loadStateDict: `strict` (default true) requires every name to match both ways. */
export type LoadOptions = OptionsOf<typeof LOAD_OPTIONS>;
const BUFFER_OPTIONS = options('Module.registerBuffer', {
  /** part of stateDict() and saved files (default true, as PyTorch's persistent) */
  persistent: opt.boolean,
});
/** Options of Module.registerBuffer and nn.Buffer: `persistent` (default true) keeps the buffer in stateDict() and saved files. */
export type BufferOptions = OptionsOf<typeof BUFFER_OPTIONS>;

// ———————————————————————————————————————————— stand-ins by tensor identity
//
// While a differentiated call runs (valueAndGrad or dlfeval over a module or tensors it holds,
// functionalCall), each tensor it differentiates is replaced by a stand-in wherever a module
// exposes it: fields, param()/buffer(), parameters(), stateDict(). The map is keyed by the tensor,
// not by its name, so a tensor tied under several names or modules resolves to one stand-in
// everywhere and gets one gradient, the sum of all its uses.

const standIns: Map<Tensor, Tensor>[] = [];

/** The tensor a module uses for its own tensor t now: the innermost stand-in, else t itself. */
export function resolve<T extends Tensor | null | undefined>(t: T): T {
  for (let i = standIns.length - 1; i >= 0; i--) {
    const s = standIns[i].get(t as Tensor);
    if (s !== undefined) return s as T;
  }
  return t;
}

/** @internal runs fn(...args) with `map` (own tensor → stand-in) in force for every module. */
export function withStandIns<A extends unknown[], R>(map: Map<Tensor, Tensor>, fn: (...args: A) => R, args: A): R {
  if (map.size === 0) return fn(...args);
  standIns.push(map);
  try {
    return fn(...args);
  } finally {
    standIns.pop();
  }
}

// ———————————————————————————————————————————— fields, as PyTorch's __setattr__
//
// A Module is a Proxy over itself, so that assigning a field registers what it holds, as PyTorch
// does for modules and parameters: a Module becomes a submodule, a float Tensor a parameter
// (nn.Parameter(t) says so explicitly; nn.Buffer(t) makes it a buffer), a non-float Tensor
// (indices, masks) a non-persistent buffer. The field then reads through the registry, so
// `this.w` in forward is the differentiated stand-in. Fields whose name starts with '_' and
// values that are neither stay plain fields.

const bufferMarks = new WeakMap<Tensor, boolean>();

/** torch.nn.Parameter: a float tensor that, assigned to a module's field, is a parameter (what a float tensor in a field is anyway). */
export function Parameter<T extends Tensor>(t: T): T {
  if (arguments.length > 1) checkArity('nn.Parameter', arguments, 1, 'tensor');
  if (!(t instanceof Tensor)) throw new ValueError(`nn.Parameter: expected a Tensor, got ${describeValue(t)}`);
  t.use('nn.Parameter');
  if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new DTypeError(`nn.Parameter: a parameter must be float32 or float64, got ${t.dtype} ${formatShape(t.dims)}`);
  bufferMarks.delete(t);
  return t;
}

/** torch.nn.Buffer: a tensor that, assigned to a module's field, is registered as a buffer (state, not learned). */
export function Buffer<T extends Tensor>(t: T, opts?: BufferOptions): T {
  if (arguments.length > 2) checkArity('nn.Buffer', arguments, 2, 'tensor, { persistent }');
  if (!(t instanceof Tensor)) throw new ValueError(`nn.Buffer: expected a Tensor, got ${describeValue(t)}`);
  bufferMarks.set(t, BUFFER_OPTIONS.parse(opts, 'nn.Buffer').persistent ?? true);
  return t;
}

/** the Proxy of a module's target object (set once, in the constructor) */
const PROXY = Symbol('wasmgrad.module.proxy');
/** set (to true) by dispose(): a symbol, so it is neither a field nor registered, and reads the same through the Proxy */
const DISPOSED = Symbol('wasmgrad.module.disposed');

/** Throws DisposedError if `m` was disposed: 'Linear: the module was disposed; forward cannot …'. */
function checkAlive(m: Module, method: string): void {
  if ((m as any)[DISPOSED] === true) {
    throw new DisposedError(`${m.constructor.name}: the module was disposed; ${method} cannot be used after dispose() (its parameters and buffers were freed)`);
  }
}

const fieldTraps: ProxyHandler<Module> = {
  set(target, key, value, receiver) {
    if (typeof key === 'string' && assignField(receiver as Module, target, key, value)) return true;
    return Reflect.set(target, key, value, receiver);
  },
  defineProperty(target, key, desc) {
    // Class fields are defined, not assigned. A field declared without an initialiser defines
    // undefined after the base constructor ran, which must not clear what that registered.
    if (typeof key === 'string' && 'value' in desc && !(desc.value === undefined && registeredName(target, key))) {
      if (assignField((target as any)[PROXY] as Module, target, key, desc.value)) return true;
    }
    return Reflect.defineProperty(target, key, desc);
  },
};

function registeredName(m: Module, key: string): boolean {
  return m._parameters.has(key) || m._buffers.has(key) || m._modules.has(key);
}

/** Registers a field's value where PyTorch would; false for a plain field. */
function assignField(self: Module, target: Module, key: string, value: unknown): boolean {
  if (key.startsWith('_')) return false;
  const name = target.constructor.name;
  if (value instanceof Module) {
    if (target._modules.get(key) !== value) self.registerModule(key, value);
    return true;
  }
  if (value instanceof Tensor) {
    const marked = bufferMarks.get(value);
    if (target._buffers.has(key) || marked !== undefined) {
      self.registerBuffer(key, value, marked ?? !target._nonPersistent.has(key));
    } else if (!target._parameters.has(key) && value.isAlive && value.dtype !== 'float32' && value.dtype !== 'float64') {
      self.registerBuffer(key, value, false);
    } else {
      self.registerParameter(key, value);
    }
    return true;
  }
  if (target._parameters.has(key) || target._buffers.has(key)) {
    const kind = target._parameters.has(key) ? 'parameter' : 'buffer';
    if (value !== null && value !== undefined) {
      throw new ValueError(`${name}: cannot assign ${describeValue(value)} to '${key}', which is a ${kind} (a Tensor or null expected)`);
    }
    if (kind === 'parameter') self.registerParameter(key, null); else self.registerBuffer(key, null);
    return true;
  }
  if (target._modules.has(key)) {
    if (value !== null && value !== undefined) throw new ValueError(`${name}: cannot assign ${describeValue(value)} to '${key}', which is a submodule (a Module or null expected)`);
    target._modules.delete(key);
    delete (target as any)[key];
    return true;
  }
  const holdsModules = Array.isArray(value) ? value.some((v) => v instanceof Module)
    : isPlainObject(value) && Object.values(value).some((v) => v instanceof Module);
  if (holdsModules) {
    const [kind, container] = Array.isArray(value) ? ['an array', 'nn.ModuleList([...modules])'] : ['a plain object', 'nn.ModuleDict({ name: module, … })'];
    throw new ValueError(`${name}: field '${key}' holds ${kind} of modules, which would not be registered (their parameters would be neither trained nor saved); ` +
      `use ${container} (as PyTorch), nn.Sequential, or registerModule(name, module) for each`);
  }
  return false;
}

/** Makes `module[name]` read the registry (through any stand-in) and assign through registration. */
function defineAccessor(target: Module, name: string, kind: 'parameter' | 'buffer' | 'module'): void {
  const own = Object.getOwnPropertyDescriptor(target, name);
  if (own?.get) return;
  if (!own && name in target) {
    // A getter of the class (Linear's `weight`) already reads the registry; a method would be shadowed.
    if (typeof (target as any)[name] === 'function') {
      throw new ValueError(`${target.constructor.name}: cannot register ${kind} '${name}': the module has a method of that name`);
    }
    for (let p = Object.getPrototypeOf(target); p !== null; p = Object.getPrototypeOf(p)) {
      const d = Object.getOwnPropertyDescriptor(p, name);
      if (d) { if (d.get) return; break; }
    }
  }
  const params = target._parameters, buffers = target._buffers, modules = target._modules;
  const get = kind === 'module' ? () => modules.get(name)
    : kind === 'parameter' ? () => { checkAlive(target, `'${name}'`); return resolve(params.get(name) ?? null); }
      : () => { checkAlive(target, `'${name}'`); return resolve(buffers.get(name) ?? null); };
  Object.defineProperty(target, name, {
    get, set(v) { assignField((target as any)[PROXY], target, name, v); }, enumerable: true, configurable: true,
  });
}

/**
 * The base class of every layer and network (PyTorch: torch.nn.Module; MATLAB: dlnetwork's
 * forward/predict). Subclasses implement `forward`; assigning a Module, a float Tensor or
 * nn.Buffer(t) to a field registers it as a submodule, parameter or buffer, under PyTorch's
 * state-dict names. Parameters are kept tensors owned by the module; dispose() frees them.
 *
 * @example
 * ```ts
 * class Mlp extends nn.Module {
 *   fc1 = new nn.Linear(4, 16);
 *   fc2 = new nn.Linear(16, 3);
 *   forward(x: Tensor) { return this.fc2.call(relu(this.fc1.call(x))); }
 * }
 * const net = new Mlp();
 * const [loss, grads] = valueAndGrad((m: Mlp) => crossEntropy(m.call(x), y))(net);
 * ```
 */
export abstract class Module {
  /** training behaviour (dropout on, batch statistics); false after .eval() */
  training = true;
  /** @internal */ readonly _parameters = new Map<string, Tensor | null>();
  /** @internal */ readonly _buffers = new Map<string, Tensor | null>();
  /** @internal */ readonly _modules = new Map<string, Module>();
  /** @internal buffers left out of stateDict() (PyTorch's persistent=False) */
  readonly _nonPersistent = new Set<string>();

  constructor() {
    const proxy = new Proxy(this, fieldTraps);
    Object.defineProperty(this, PROXY, { value: proxy });
    return proxy;
  }

  /** The module's computation, following its mode (training behaviour unless in eval mode). */
  abstract forward(...inputs: any[]): unknown;

  /** PyTorch's module(x): forward. */
  call(...inputs: Parameters<this['forward']>): ReturnType<this['forward']> {
    checkAlive(this, 'call');
    return this.forward(...inputs) as ReturnType<this['forward']>;
  }

  /** @internal throws DisposedError naming the module and `method` if the module was disposed. */
  _checkAlive(method: string): void { checkAlive(this, method); }

  /**
   * Inference behaviour whatever the mode (MATLAB's predict): dropout off, batch norm with its
   * running statistics, which it leaves untouched. The modes are restored afterwards.
   */
  predict(...inputs: Parameters<this['forward']>): ReturnType<this['forward']> {
    checkAlive(this, 'predict');
    const modes = [...this.modules()].map((m) => [m, m.training] as const);
    this.eval();
    try {
      return this.forward(...inputs) as ReturnType<this['forward']>;
    } finally {
      for (const [m, mode] of modes) m.training = mode;
    }
  }

  /** Sets training mode (default true) on this module and every descendant; `train(false)` is the same as eval. Returns this module (PyTorch: Module.train). */
  train(mode = true): this {
    if (arguments.length > 1) checkArity('Module.train', arguments, 1, 'mode?');
    checkAlive(this, 'train');
    if (typeof mode !== 'boolean') throw new ValueError(`train: mode must be a boolean, got ${describeValue(mode)}`);
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /**
   * Registers (or replaces, disposing the old) a parameter; the module keeps and owns it, and
   * `this[name]` reads it (the differentiated stand-in inside valueAndGrad, as PyTorch's attribute).
   */
  registerParameter(name: string, t: Tensor | null): Tensor | null {
    if (arguments.length > 2) checkArity('Module.registerParameter', arguments, 2, 'name, tensor');
    checkAlive(this, 'registerParameter');
    this.checkName('registerParameter', name, this._buffers, 'a buffer');
    if (this._modules.has(name)) throw new ValueError(`registerParameter: '${name}' is already a submodule`);
    if (t !== null && t instanceof Tensor && t.isAlive && t.dtype !== 'float32' && t.dtype !== 'float64') {
      throw new DTypeError(`registerParameter: '${name}' is a ${t.dtype} tensor of shape ${formatShape(t.dims)}; a parameter must be float32 or float64 (register it with registerBuffer)`);
    }
    const r = this.own(this._parameters, name, t);
    defineAccessor(this, name, 'parameter');
    return r;
  }

  /**
   * Registers (or replaces) a state buffer, e.g. running statistics. A non-persistent buffer
   * (`registerBuffer(name, t, false)` or `{ persistent: false }`, as PyTorch's persistent=False)
   * is left out of stateDict() and saved files.
   */
  registerBuffer(name: string, t: Tensor | null, persistent: boolean | BufferOptions = true): Tensor | null {
    if (arguments.length > 3) checkArity('Module.registerBuffer', arguments, 3, 'name, tensor, persistent?');
    checkAlive(this, 'registerBuffer');
    const keepIt = typeof persistent === 'boolean' ? persistent : (BUFFER_OPTIONS.parse(persistent).persistent ?? true);
    this.checkName('registerBuffer', name, this._parameters, 'a parameter');
    if (this._modules.has(name)) throw new ValueError(`registerBuffer: '${name}' is already a submodule`);
    const r = this.own(this._buffers, name, t);
    if (keepIt) this._nonPersistent.delete(name); else this._nonPersistent.add(name);
    defineAccessor(this, name, 'buffer');
    return r;
  }

  /** Adds a child module under `name` (its parameters become 'name.…'); `this[name]` reads it; returns it. */
  registerModule<M extends Module>(name: string, m: M): M {
    if (arguments.length > 2) checkArity('Module.registerModule', arguments, 2, 'name, module');
    checkAlive(this, 'registerModule');
    this.checkName('registerModule', name, this._parameters, 'a parameter');
    if (!(m instanceof Module)) throw new ValueError(`registerModule: '${name}' must be a Module, got ${describeValue(m)}`);
    if (this._buffers.has(name)) throw new ValueError(`registerModule: '${name}' is already a buffer`);
    this._modules.set(name, m);
    defineAccessor(this, name, 'module');
    return m;
  }

  private checkName(op: string, name: string, other: Map<string, unknown>, what: string): void {
    if (typeof name !== 'string' || name === '' || name.includes('.')) {
      throw new ValueError(`${op}: name must be a non-empty string without '.', got ${typeof name === 'string' ? JSON.stringify(name) : describeValue(name)}`);
    }
    if (other.has(name)) throw new ValueError(`${op}: '${name}' is already ${what}`);
  }

  private own(map: Map<string, Tensor | null>, name: string, t: Tensor | null): Tensor | null {
    if (t !== null && !(t instanceof Tensor)) throw new ValueError(`${name}: expected a Tensor or null, got ${describeValue(t)}`);
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

  /** A parameter for forward (the stand-in inside a differentiated call), as `this[name]` reads it. */
  param(name: string): Tensor | undefined {
    checkAlive(this, `param('${String(name)}')`);
    return resolve(this._parameters.get(name)) ?? undefined;
  }

  /** A buffer for forward (functionalCall stand-ins too), as `this[name]` reads it. */
  buffer(name: string): Tensor | undefined {
    checkAlive(this, `buffer('${String(name)}')`);
    return resolve(this._buffers.get(name)) ?? undefined;
  }

  /** This module and every descendant, depth first (PyTorch's modules()). */
  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /** [name, module] for this module ('') and every descendant, each module once. */
  namedModules(prefix = '', seen = new Set<Module>()): [string, Module][] {
    if (typeof prefix !== 'string') throw new ValueError(`namedModules: prefix must be a string, got ${describeValue(prefix)}`);
    if (!(seen instanceof Set)) throw new ValueError(`namedModules: seen must be a Set of modules, got ${describeValue(seen)}`);
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, m] of this._modules) out.push(...m.namedModules(prefix ? `${prefix}.${name}` : name, seen));
    return out;
  }

  /** The direct submodules, in registration order (PyTorch: Module.children). */
  children(): Module[] { return [...this._modules.values()]; }

  /**
   * Calls fn on every submodule, then on this module (PyTorch's apply: each child's apply, in
   * order, then fn(self)); returns this module. The usual use is initialisation:
   * `net.apply((m) => { if (m instanceof nn.Linear) nn.init.zeros_(m.bias); })`.
   */
  apply(fn: (m: Module) => void): this {
    if (arguments.length > 1) checkArity('Module.apply', arguments, 1, 'fn');
    checkAlive(this, 'apply');
    if (typeof fn !== 'function') throw new ValueError(`Module.apply: fn must be a function of a module, got ${describeValue(fn)}`);
    for (const m of this._modules.values()) m.apply(fn);
    fn(this);
    return this;
  }
  /** [name, module] for each direct submodule, in registration order (PyTorch: Module.named_children). */
  namedChildren(): [string, Module][] { return [...this._modules]; }

  /**
   * [name, parameter] in PyTorch's order, each tensor once (a tied tensor under its first name).
   * Inside a differentiated call these are the stand-ins, so a penalty over parameters() is
   * differentiated too.
   */
  namedParameters(): [string, Tensor][] { checkAlive(this, 'namedParameters'); return this.collect((m) => m._parameters, true); }
  /** Every parameter of this module and its descendants, each tensor once, in namedParameters() order (PyTorch: Module.parameters). */
  parameters(): Tensor[] { checkAlive(this, 'parameters'); return this.namedParameters().map(([, t]) => t); }
  /** [name, buffer] for every buffer (persistent or not) of this module and its descendants, each tensor once (PyTorch: Module.named_buffers). */
  namedBuffers(): [string, Tensor][] { checkAlive(this, 'namedBuffers'); return this.collect((m) => m._buffers, true); }
  /** Every buffer of this module and its descendants, each tensor once (PyTorch: Module.buffers). */
  buffers(): Tensor[] { checkAlive(this, 'buffers'); return this.namedBuffers().map(([, t]) => t); }

  /** @internal the module's own parameters, never stand-ins (what optimizers update and differentiation watches). */
  _ownNamedParameters(): [string, Tensor][] { checkAlive(this, 'its parameters'); return this.collect((m) => m._parameters, false); }

  private collect(pick: (m: Module) => Map<string, Tensor | null>, standIn: boolean): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of pick(m)) {
        if (t === null || seen.has(t)) continue;
        seen.add(t);
        out.push([prefix ? `${prefix}.${name}` : name, standIn ? resolve(t) : t]);
      }
    }
    return out;
  }

  /** Parameters as a plain object by name: what valueAndGrad differentiates with functionalCall. */
  parameterDict(): StateDict { checkAlive(this, 'parameterDict'); return Object.fromEntries(this.namedParameters()); }

  /**
   * Parameters and persistent buffers by PyTorch's state-dict names, in PyTorch's order (each
   * module's own parameters, then its buffers, then its children). A tensor tied under several
   * names appears once, under its first name (as safetensors' save_model keeps one of tied
   * tensors); loadStateDict restores it under any of its names. The tensors are the module's own
   * (not copies), or their stand-ins inside a differentiated call.
   */
  stateDict(): StateDict {
    checkAlive(this, 'stateDict');
    const out: StateDict = {};
    for (const [name, t] of this.stateEntries()) if (!(name in out) && t.canonical) out[name] = resolve(t.tensor);
    return out;
  }

  /** Every state-dict name with its own tensor; `canonical` marks the first name of each tensor. */
  private stateEntries(): [string, { tensor: Tensor; canonical: boolean }][] {
    const out: [string, { tensor: Tensor; canonical: boolean }][] = [];
    const seen = new Set<Tensor>();
    const walk = (m: Module, prefix: string, path: Set<Module>): void => {
      if (path.has(m)) return;
      path.add(m);
      const add = (n: string, t: Tensor | null) => {
        if (!t) return;
        out.push([prefix + n, { tensor: t, canonical: !seen.has(t) }]);
        seen.add(t);
      };
      for (const [n, t] of m._parameters) add(n, t);
      for (const [n, t] of m._buffers) if (!m._nonPersistent.has(n)) add(n, t);
      for (const [n, c] of m._modules) walk(c, `${prefix}${n}.`, path);
      path.delete(m);
    };
    walk(this, '', new Set());
    return out;
  }

  /**
   * @internal Matches state-dict names against the module's: the tensor each known name loads
   * into (a tied tensor under any of its names), the module's names no given name covers, and the
   * given names it does not have.
   */
  _matchState(given: Iterable<string>): { targets: Map<string, Tensor>; missingKeys: string[]; unexpectedKeys: string[] } {
    checkAlive(this, 'loading a state');
    const entries = this.stateEntries();
    const targets = new Map(entries.map(([n, e]) => [n, e.tensor]));
    const covered = new Set<Tensor>();
    const unexpectedKeys: string[] = [];
    for (const k of given) {
      const t = targets.get(k);
      if (t) covered.add(t); else unexpectedKeys.push(k);
    }
    const missingKeys = entries.filter(([, e]) => e.canonical && !covered.has(e.tensor)).map(([k]) => k);
    return { targets, missingKeys, unexpectedKeys };
  }

  /**
   * Copies a state dict's values into the module's tensors (in place, so optimizers keep their
   * references, and tied tensors stay tied). Everything is checked first — names, shapes, dtypes —
   * so a failed load changes nothing. A tied tensor may come under any of its names (PyTorch's
   * state_dict lists every name; stateDict() and saved files the first). float64 ⇄ float32 is an
   * error (wasmgrad never converts silently); an int32 buffer takes int32 values.
   */
  loadStateDict(dict: StateDict | Map<string, Tensor>, options?: LoadOptions): {
    /** the module's state-dict names the dict did not cover */
    missingKeys: string[];
    /** names in the dict the module does not have */
    unexpectedKeys: string[];
  } {
    requireInit('loadStateDict');
    if (arguments.length > 2) checkArity('Module.loadStateDict', arguments, 2, 'stateDict, { strict }');
    checkAlive(this, 'loadStateDict');
    if (dict === null || typeof dict !== 'object') throw new ValueError(`loadStateDict: expected an object of tensors by name, got ${describeValue(dict)}`);
    const strict = LOAD_OPTIONS.parse(options).strict ?? true;
    const entries = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const { targets: names, missingKeys, unexpectedKeys } = this._matchState(entries.keys());
    if (strict && (missingKeys.length || unexpectedKeys.length)) {
      const parts: string[] = [];
      if (missingKeys.length) parts.push(`missing key(s): ${missingKeys.map((k) => `'${k}'`).join(', ')}`);
      if (unexpectedKeys.length) parts.push(`unexpected key(s): ${unexpectedKeys.map((k) => `'${k}'`).join(', ')}`);
      throw new ValueError(`loadStateDict: the state dict does not match the module (${parts.join('; ')}); nothing was loaded`);
    }
    const pairs = new Map<Tensor, [string, Tensor]>();
    for (const [name, src] of entries) {
      const target = names.get(name);
      if (target === undefined) continue;
      if (!(src instanceof Tensor)) throw new ValueError(`loadStateDict: '${name}' must be a Tensor, got ${describeValue(src)}; nothing was loaded`);
      src.use(`loadStateDict ('${name}')`);
      if (formatShape(src.dims) !== formatShape(target.dims)) {
        throw new ShapeError(`loadStateDict: size mismatch for '${name}': the state dict has shape ${formatShape(src.dims)}, the module has ${formatShape(target.dims)}; nothing was loaded`);
      }
      if (src.dtype !== target.dtype) {
        throw new DTypeError(`loadStateDict: dtype mismatch for '${name}': the state dict has ${src.dtype}, the module has ${target.dtype}; nothing was loaded`);
      }
      const earlier = pairs.get(target);
      if (earlier && earlier[1] !== src) {
        throw new ValueError(`loadStateDict: '${earlier[0]}' and '${name}' name one tied tensor of the module but the state dict gives two different tensors; nothing was loaded`);
      }
      pairs.set(target, [name, src]);
    }
    for (const [target, [, src]] of pairs) if (target !== src) copyInto(target, src);
    return { missingKeys, unexpectedKeys };
  }

  /** The number of parameter elements (each shared tensor once). */
  numParameters(): number {
    checkAlive(this, 'numParameters');
    return this.parameters().reduce((n, t) => n + t.numel(), 0);
  }

  /** Converts every floating parameter and buffer to dtype (replacing, and disposing, the old ones). */
  to(dtype: DTypeName): this {
    checkAlive(this, 'to');
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

  /**
   * Frees every parameter and buffer of this module and its descendants; they are all unusable
   * afterwards (forward, parameters(), stateDict(), … throw DisposedError). Disposing again is
   * harmless.
   */
  dispose(): void {
    for (const m of this.modules()) {
      for (const map of [m._parameters, m._buffers]) {
        for (const t of map.values()) t?.dispose();
        map.clear();
      }
      if ((m as any)[DISPOSED] !== true) Object.defineProperty(m, DISPOSED, { value: true, configurable: true });
    }
  }

  /** dispose(), for `using net = new Mlp()`: the module's parameters are freed when the block ends. */
  [Symbol.dispose](): void { this.dispose(); }

  /** Whether dispose() freed this module (or a module holding it). */
  get isDisposed(): boolean { return (this as any)[DISPOSED] === true; }

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
    checkAlive(this, 'summary');
    const rows: string[][] = [];
    for (const [name, m] of this.namedModules()) {
      const own = [...m._parameters].filter(([, t]) => t) as [string, Tensor][];
      const count = own.reduce((n, [, t]) => n + t.numel(), 0);
      const shapes = own.map(([n, t]) => `${n} ${formatShape(t.dims)}`).join(', ');
      const depth = name === '' ? 0 : name.split('.').length;
      rows.push([`${'  '.repeat(depth)}${name || '(root)'}`, `${m.constructor.name}${m.extraRepr() ? `(${m.extraRepr()})` : ''}`, shapes, count ? String(count) : '']);
    }
    const head = ['name', 'layer', 'parameters', 'count'];
    const w = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
    const line = (cells: string[]) => cells.map((c, k) => (k === 3 ? c.padStart(w[k]) : c.padEnd(w[k]))).join('  ').trimEnd();
    const params = this.parameters();
    const bytes = params.reduce((n, t) => n + t.numel() * (t.dtype === 'float64' ? 8 : 4), 0);
    const bufferCount = this.buffers().reduce((n, t) => n + t.numel(), 0);
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
 * state-dict name) in place of the module's own parameters or buffers. The stand-ins follow the
 * tensors, not the names: a tensor tied under several names is replaced under all of them (as
 * PyTorch's tie_weights=True), wherever the module reads it. The module itself is left unchanged;
 * names it does not have are an error, and so are two different tensors for one tied tensor.
 */
export function functionalCall(module: Module, params: StateDict | Map<string, Tensor>, ...args: any[]): any {
  if (!(module instanceof Module)) throw new ValueError(`functionalCall: expected a Module, got ${describeValue(module)}`);
  checkAlive(module, 'functionalCall');
  if (params === null || typeof params !== 'object') throw new ValueError(`functionalCall: params must be an object of tensors by state-dict name, got ${describeValue(params)}`);
  const entries = params instanceof Map ? [...params] : Object.entries(params);
  const byPath = new Map(module.namedModules());
  const map = new Map<Tensor, Tensor>();
  const nameOf = new Map<Tensor, string>();
  for (const [name, t] of entries) {
    const dot = name.lastIndexOf('.');
    const owner = byPath.get(dot < 0 ? '' : name.slice(0, dot));
    const local = name.slice(dot + 1);
    const own = owner?._parameters.get(local) ?? owner?._buffers.get(local);
    if (!owner || own === undefined) {
      const names = Object.keys(module.stateDict());
      const near = nearestKey(name, names);
      throw new ValueError(`functionalCall: the module has no parameter or buffer '${name}'${near ? `. Did you mean '${near}'?` : ''}`);
    }
    if (!(t instanceof Tensor)) throw new ValueError(`functionalCall: '${name}' must be a Tensor, got ${describeValue(t)}`);
    if (own === null) throw new ValueError(`functionalCall: '${name}' is None in the module (nothing to replace)`);
    const earlier = map.get(own);
    if (earlier !== undefined && earlier !== t) {
      throw new ValueError(`functionalCall: '${nameOf.get(own)}' and '${name}' name one tied tensor of the module but were given two different tensors`);
    }
    map.set(own, t);
    nameOf.set(own, name);
  }
  return withStandIns(map, (...a: any[]) => module.forward(...a), args);
}
