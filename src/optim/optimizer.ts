// torch.optim's first-order optimizers: SGD, Adam, AdamW, RMSprop, Adagrad, with PyTorch's
// defaults and update formulas. A step validates everything on the host, then makes ONE wasm
// call (assembly/ops/optim.ts) that updates every parameter and its state in place. The state
// (moment estimates, momentum buffers) lives in wasm memory as kept tensors; stateDict() /
// loadStateDict() save and restore it.

import { Tensor, zeros, full, type DTypeName } from '../tensor.js';
import { keep } from '../scope.js';
import { wasm, views, F64, I32, ARGS, requireInit, raise, recordWord } from '../runtime.js';
import { ValueError, ShapeError, DTypeError, DisposedError, formatShape } from '../errors.js';
import { Module, copyInto } from '../nn/module.js';
import { options, opt, checkArity, describeValue, nearestKey, OptionSchema, type OptionsOf } from '../options.js';
import {
  OPTIM_HYPER_WORDS, OPTIM_RECORD_WORDS, H_LR, H_WD, H_MOMENTUM, H_DAMPENING, H_NESTEROV, H_MAXIMIZE, H_BETA1, H_BETA2,
  H_EPS, H_AMSGRAD, H_ALPHA, H_CENTERED, H_LR_DECAY, T_DATA,
} from '../../assembly/core/abi.js';
import { gradientsByParameter } from '../autodiff.js';

const KIND = { sgd: 0, adam: 1, adamw: 2, rmsprop: 3, adagrad: 4 } as const;
const H = {
  lr: H_LR, wd: H_WD, momentum: H_MOMENTUM, dampening: H_DAMPENING, nesterov: H_NESTEROV, maximize: H_MAXIMIZE,
  beta1: H_BETA1, beta2: H_BETA2, eps: H_EPS, amsgrad: H_AMSGRAD, alpha: H_ALPHA, centered: H_CENTERED, lrDecay: H_LR_DECAY,
} as const;
const H_WORDS = OPTIM_HYPER_WORDS, R_WORDS = OPTIM_RECORD_WORDS;
// The argument buffer is 64 KiB: records from word 0, hyperparameters in its second half.
const HYPER_WORD = 8192;
const MAX_PARAMS = Math.floor(HYPER_WORD / R_WORDS);
const MAX_GROUPS = Math.floor((16384 - HYPER_WORD) / 2 / H_WORDS);

/** Options of a parameter group: a number per hyperparameter, lr at least. */
export type GroupOptions = Record<string, number | boolean | [number, number]>;

/** Parameters: a Module (its named parameters, looked up at every step), tensors, or groups of them. */
export type ParamsInput = Module | readonly Tensor[] | readonly ParamGroupInput[];
/** A parameter group: its parameters and any of the optimizer's options (checked against them). */
export interface ParamGroupInput {
  /** the group's parameters: a Module's (looked up at every step) or a list of tensors */
  params: Module | readonly Tensor[];
  [option: string]: unknown;
}

/** The schema of a parameter group: the optimizer's options plus `params` (not registered: the optimizer's own schema is). */
function groupSchema(schema: OptionSchema): OptionSchema {
  return new OptionSchema(schema.fn, { params: opt.any<Module | readonly Tensor[]>(), ...schema.specs });
}

/** Gradients: an array aligned with the parameters, an object by parameter name, or a Map from tensor. */
export type Grads = readonly (Tensor | null | undefined)[] | Readonly<Record<string, Tensor | null | undefined>> | Map<Tensor, Tensor>;

interface Group { source: Module | readonly Tensor[]; options: Record<string, any> }

/** A parameter's state: its step count in an int32 rank-0 tensor the update kernel advances (so an accelerated replay counts as eager steps do), and its buffers. */
interface ParamState { counter: Tensor; buffers: Record<string, Tensor> }

/** The step count a counter tensor holds (read raw: not a value read of the traced function). */
function stepOf(s: ParamState): number { views(); return I32[I32[recordWord(s.counter.id) + T_DATA / 4] >>> 2]; }

/** Runs make() with accelerate's capture paused: optimizer state made during a capture is the optimizer's, not the program's. */
function outsideCapture<T>(make: () => T): T {
  const was = wasm.capturePause();
  try { return make(); } finally { wasm.captureResume(was); }
}
function newState(step: number): ParamState {
  return { counter: outsideCapture(() => keep(full([], step, { dtype: 'int32' }))), buffers: {} };
}

/** PyTorch's optimizer state_dict(): the state per parameter index and the groups' hyperparameters (PyTorch's names). */
export interface OptimizerStateDict {
  /** per parameter index (across groups, in order): its step and state tensors by PyTorch's names */
  state: Record<number, {
    /** updates applied to the parameter so far */
    step: number;
    [buffer: string]: Tensor | number | null;
  }>;
  /** each group's hyperparameters by PyTorch's names (weight_decay, …) and `params`, its parameters' indices */
  param_groups: Record<string, unknown>[];
}
/** The form stateDict() had before PyTorch's key names (still accepted by loadStateDict). */
export interface LegacyOptimizerStateDict {
  /** per parameter index: its step and state tensors */
  state: Record<number, {
    /** updates applied to the parameter so far */
    step: number;
    [buffer: string]: Tensor | number | null;
  }>;
  /** each group's hyperparameters (camelCase names) */
  paramGroups: Record<string, unknown>[];
}

/** camelCase → PyTorch's snake_case (weightDecay → weight_decay, initialLr → initial_lr). */
function snake(k: string): string { return k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`); }

/** PyTorch's implementation switches, accepted (and ignored) at the values that mean wasmgrad's one implementation. */
const PYTORCH_FLAGS: Record<string, (v: unknown, name: string) => boolean> = {
  foreach: (v) => v === null || v === false || v === true,
  fused: (v) => v === null || v === false,
  capturable: (v) => v === false,
  differentiable: (v) => v === false,
  decoupled_weight_decay: (v, name) => v === (name === 'AdamW'),
};

/**
 * The base of the optimizers (PyTorch: torch.optim.Optimizer). An optimizer holds parameter groups
 * (a Module, tensors, or groups with their own options) and updates the parameters in place in
 * `step(grads)` with gradients by parameter name, in order, or by tensor; its state saves and loads
 * in PyTorch's state_dict layout. dispose() frees its state.
 */
export abstract class Optimizer {
  /** the parameter groups: each one's parameters (`source`) and live options (`options.lr`, …) */
  readonly paramGroups: Group[] = [];
  /** the groups' hyperparameters, H_WORDS float64s per group, rewritten whenever an option changes; an accelerated update reads it on every replay */
  private hyperTensor: Tensor | undefined;
  /** @internal state per parameter index */
  readonly state = new Map<number, ParamState>();
  protected abstract readonly name: string;
  protected abstract readonly defaults: Record<string, unknown>;
  /** the constructor's options (and, with `params`, a parameter group's keys) */
  protected abstract readonly schema: OptionSchema;
  private groupKeys: OptionSchema | undefined;
  private disposed = false;

  /** Throws DisposedError naming the optimizer and `method` once dispose() has run. */
  protected checkAlive(method: string): void {
    if (this.disposed) throw new DisposedError(`${this.name}.${method}: the optimizer was disposed (its state tensors were freed); make a new optimizer`);
  }

  /** Whether dispose() has run. */
  get isDisposed(): boolean { return this.disposed; }

  protected init(params: ParamsInput, options: unknown): void {
    requireInit(this.name);
    const merged = { ...this.defaults, ...this.schema.parse(options) };
    this.validate(merged);
    const groups: ParamGroupInput[] = params instanceof Module || (Array.isArray(params) && params.every((p) => p instanceof Tensor))
      ? [{ params: params as Module | Tensor[] }]
      : Array.isArray(params) ? params as ParamGroupInput[] : [];
    if (groups.length === 0 && !(Array.isArray(params) && params.length === 0)) {
      throw new ValueError(`${this.name}: params must be a Module, an array of tensors or an array of parameter groups ({ params, ...options })`);
    }
    for (const g of groups) this.addGroup(g, merged);
    if (this.tensors().length === 0) throw new ValueError(`${this.name}: optimizer got an empty parameter list`);
  }

  /**
   * Adds a group of parameters with its own options (the others from the defaults). Its keys are
   * checked: `params` and the optimizer's options, nothing else.
   */
  addParamGroup(group: ParamGroupInput): void {
    if (arguments.length > 1) checkArity(`${this.schema.fn}.addParamGroup`, arguments, 1, '{ params, ...options }');
    this.checkAlive('addParamGroup');
    this.addGroup(group, this.defaults);
  }

  private addGroup(group: ParamGroupInput, base: Record<string, unknown>): void {
    if (group !== null && typeof group === 'object') (this.groupKeys ??= groupSchema(this.schema)).parse(group, this.schema.fn, 'a parameter group');
    if (group === null || typeof group !== 'object' || !('params' in group)) throw new ValueError(`${this.name}: a parameter group must be an object with 'params', got ${describeValue(group)}`);
    const { params, ...rest } = group;
    if (!(params instanceof Module) && !(Array.isArray(params) && params.every((p) => p instanceof Tensor))) {
      throw new ValueError(`${this.name}: a group's params must be a Module or an array of tensors, got ${Array.isArray(params) ? `an array holding ${describeValue((params as unknown[]).find((p) => !(p instanceof Tensor)))}` : describeValue(params)}`);
    }
    const options = { ...base, ...rest };
    this.validate(options);
    const seen = new Set(this.tensors());
    for (const t of params instanceof Module ? params._ownNamedParameters().map(([, t]) => t) : params as Tensor[]) {
      if (seen.has(t)) throw new ValueError(`${this.name}: some parameters appear in more than one parameter group`);
      t.use(`${this.name} (params)`);
      if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new DTypeError(`${this.name}: can only optimize float32 or float64 tensors, got ${t.dtype} ${formatShape(t.dims)}`);
    }
    if (this.paramGroups.length >= MAX_GROUPS) throw new ValueError(`${this.name}: at most ${MAX_GROUPS} parameter groups`);
    // Options changed later (a schedule's lr, a user's momentum) reach the hyperparameter tensor at once.
    const live = new Proxy(options, {
      set: (o, k, v) => {
        this.checkAlive(`paramGroups (setting '${String(k)}')`);
        (o as any)[k] = v;
        this.writeHyper();
        return true;
      },
    });
    this.paramGroups.push({ source: params, options: live });
    this.hyperTensor?.dispose();
    this.hyperTensor = undefined;
  }

  /** The learning rate of every group (what schedules change). */
  get lr(): number { return this.paramGroups[0].options.lr; }
  /** Sets the learning rate of every group. */
  set lr(v: number) {
    this.checkAlive('lr');
    for (const g of this.paramGroups) g.options.lr = v;
  }

  /** Writes every group's hyperparameters into the hyperparameter tensor (made on first use). */
  private writeHyper(): void {
    if (this.paramGroups.length === 0 || (this.hyperTensor !== undefined && !this.hyperTensor.isAlive)) return;
    const words = this.paramGroups.length * H_WORDS;
    this.hyperTensor ??= outsideCapture(() => keep(zeros([words], { dtype: 'float64' })));
    views();
    const at = I32[recordWord(this.hyperTensor.id) + T_DATA / 4] >>> 3;
    F64.fill(0, at, at + words);
    this.paramGroups.forEach((g, gi) => {
      for (const [k, v] of Object.entries(this.hyper(g.options))) F64[at + gi * H_WORDS + H[k as keyof typeof H]] = v as number;
    });
  }

  protected abstract validate(options: Record<string, any>): void;
  protected abstract kind(options: Record<string, any>): number;
  /** State tensors (PyTorch's names) a parameter needs, in the kernel's slot order; null = slot unused. */
  protected abstract stateNames(options: Record<string, any>): (string | null)[];
  protected initialState(name: string, p: Tensor, _options: Record<string, any>): Tensor { return zeros(p.dims, { dtype: p.dtype }); }
  protected abstract hyper(options: Record<string, any>): Partial<Record<keyof typeof H, number>>;

  /** [name, tensor, group index] of every parameter, in order (a Module's looked up now). */
  private entries(): [string, Tensor, number][] {
    const out: [string, Tensor, number][] = [];
    this.paramGroups.forEach((g, gi) => {
      if (g.source instanceof Module) for (const [name, t] of g.source._ownNamedParameters()) out.push([name, t, gi]);
      else for (const t of g.source as Tensor[]) out.push([String(out.length), t, gi]);
    });
    return out;
  }
  private tensors(): Tensor[] { return this.entries().map(([, t]) => t); }

  /**
   * One update of every parameter with a gradient: `grads` aligned with the parameters, by
   * parameter name (a Module's names, else '0', '1', …), or a Map from parameter to gradient. A
   * parameter without a gradient (null / undefined / absent) is left alone, as PyTorch skips
   * params whose .grad is None.
   */
  step(grads: Grads): void {
    requireInit(`${this.name}.step`);
    this.checkAlive('step');
    // A Module's gradients (by its parameter names) reach parameters grouped in any way, by tensor.
    const byTensor = grads !== null && typeof grads === 'object' && !Array.isArray(grads) && !(grads instanceof Map)
      ? gradientsByParameter(grads) : undefined;
    if (byTensor !== undefined) grads = byTensor;
    const entries = this.entries();
    if (entries.length > MAX_PARAMS) throw new ValueError(`${this.name}.step: at most ${MAX_PARAMS} parameters in one optimizer`);
    const work: { index: number; p: Tensor; g: Tensor; group: number }[] = [];
    entries.forEach(([name, p, group], index) => {
      const g = gradFor(this.name, grads, name, p, index);
      if (g === undefined) return;
      const what = `${this.name}.step (gradient '${name}')`;
      g.use(what);
      p.use(`${this.name}.step (parameter '${name}')`);
      if (formatShape(g.dims) !== formatShape(p.dims)) throw new ShapeError(`${what}: shape ${formatShape(g.dims)} does not match the parameter's ${formatShape(p.dims)}`);
      if (g.dtype !== p.dtype) throw new DTypeError(`${what}: dtype ${g.dtype} does not match the parameter's ${p.dtype}`);
      work.push({ index, p, g, group });
    });
    if (grads !== null && typeof grads === 'object' && !Array.isArray(grads) && !(grads instanceof Map)) {
      const names = new Set(entries.map(([n]) => n));
      const unknown = Object.keys(grads).filter((k) => !names.has(k));
      if (unknown.length) throw new ValueError(`${this.name}.step: gradients for unknown parameter(s) ${unknown.map((k) => `'${k}'`).join(', ')}`);
    }
    // State for parameters stepping for the first time; all state checked against its parameter.
    for (const w of work) {
      const options = this.paramGroups[w.group].options;
      let s = this.state.get(w.index);
      if (!s) this.state.set(w.index, (s = newState(0)));
      for (const n of this.stateNames(options)) if (n && !s.buffers[n]) s.buffers[n] = outsideCapture(() => keep(this.initialState(n, w.p, options)));
      for (const [n, t] of Object.entries(s.buffers)) {
        if (!t.isAlive || formatShape(t.dims) !== formatShape(w.p.dims) || t.dtype !== w.p.dtype) {
          throw new ShapeError(`${this.name}.step: state '${n}' of parameter ${w.index} (${t.isAlive ? `${t.dtype} ${formatShape(t.dims)}` : 'disposed'}) does not match the parameter (${w.p.dtype} ${formatShape(w.p.dims)})`);
        }
      }
    }
    fusedUpdate(`${this.name}.step`, this.kind(this.paramGroups[0].options), work.map((w) => {
      const s = this.state.get(w.index)!;
      const slots = this.stateNames(this.paramGroups[w.group].options);
      return { param: w.p, grad: w.g, state: slots.map((n) => (n ? s.buffers[n] : null)), step: 0, counter: s.counter, group: w.group };
    }), [], this.hyperTensorNow());
  }

  private hyperTensorNow(): Tensor {
    if (this.hyperTensor === undefined || !this.hyperTensor.isAlive) { this.hyperTensor = undefined; this.writeHyper(); }
    return this.hyperTensor!;
  }

  /** @internal the optimizer's name ('Adam', 'SGD', …), as its messages and saved files name it. */
  get _name(): string { return this.name; }

  /**
   * PyTorch's state_dict(): `{ state, param_groups }`. `state[i]` is parameter i's (numbered
   * across the groups, in order) step count and state tensors by PyTorch's names (exp_avg,
   * exp_avg_sq, max_exp_avg_sq, momentum_buffer, square_avg, grad_avg, sum); a parameter that
   * never stepped has none. `param_groups` holds each group's hyperparameters under PyTorch's
   * names (lr, betas, eps, weight_decay, momentum, dampening, nesterov, amsgrad, maximize, …,
   * initial_lr once a schedule set it) and `params`, the indices of its parameters. The tensors
   * are the optimizer's live state (not copies: the next step changes them; io.save(opt) writes
   * them out); step counts are numbers (PyTorch keeps a 0-d tensor).
   */
  stateDict(): OptimizerStateDict {
    if (arguments.length > 0) checkArity(`${this.schema.fn}.stateDict`, arguments, 0, '');
    this.checkAlive('stateDict');
    const state: OptimizerStateDict['state'] = {};
    for (const [i, s] of [...this.state].sort((a, b) => a[0] - b[0])) state[i] = { step: stepOf(s), ...s.buffers };
    let next = 0;
    const groups = this.paramGroups.map((g) => {
      const n = g.source instanceof Module ? g.source._ownNamedParameters().length : g.source.length;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g.options)) out[snake(k)] = Array.isArray(v) ? v.slice() : v;
      out.params = Array.from({ length: n }, () => next++);
      return out;
    });
    return { state, param_groups: groups };
  }

  /**
   * PyTorch's load_state_dict: restores a state dict from stateDict() (or io.load), copying its
   * tensors, so the next step is bit for bit the one the saved optimizer would have taken.
   * Everything is checked first and a failed load changes nothing: the group count and each
   * group's size, hyperparameter names (PyTorch's snake_case or wasmgrad's camelCase; an unknown
   * one is named) and values, and every state tensor's name, shape and dtype against its
   * parameter. `params` maps saved indices to this optimizer's parameters by position, as PyTorch.
   */
  loadStateDict(sd: OptimizerStateDict | LegacyOptimizerStateDict): void {
    if (arguments.length > 1) checkArity(`${this.schema.fn}.loadStateDict`, arguments, 1, 'stateDict');
    requireInit(`${this.name}.loadStateDict`);
    this.checkAlive('loadStateDict');
    const op = `${this.name}.loadStateDict`;
    const groupsIn = sd !== null && typeof sd === 'object' ? ((sd as OptimizerStateDict).param_groups ?? (sd as LegacyOptimizerStateDict).paramGroups) : undefined;
    if (sd === null || typeof sd !== 'object' || sd.state === null || typeof sd.state !== 'object' || !Array.isArray(groupsIn)) {
      throw new ValueError(`${op}: expected { state, param_groups } as stateDict() returns, got ${describeValue(sd)}`);
    }
    const extra = Object.keys(sd).filter((k) => k !== 'state' && k !== 'param_groups' && k !== 'paramGroups');
    if (extra.length) throw new ValueError(`${op}: unknown key(s) ${extra.map((k) => `'${k}'`).join(', ')} (a state dict has 'state' and 'param_groups')`);
    if (groupsIn.length !== this.paramGroups.length) {
      throw new ValueError(`${op}: the state dict has ${groupsIn.length} parameter group(s), the optimizer ${this.paramGroups.length}`);
    }
    const entries = this.entries();
    const known = new Map<string, string>([...this.schema.keys, 'initialLr'].flatMap((k) => [[k, k], [snake(k), k]] as [string, string][]));
    // The groups' options as they will be after loading: they decide which state tensors exist.
    const idMap = new Map<string, number>();
    let flat = 0;
    const merged = groupsIn.map((g, gi) => {
      if (g === null || typeof g !== 'object' || Array.isArray(g)) throw new ValueError(`${op}: parameter group ${gi} must be an object, got ${describeValue(g)}`);
      const size = entries.filter(([, , group]) => group === gi).length;
      const o: Record<string, unknown> = { ...this.paramGroups[gi].options };
      for (const [k, v] of Object.entries(g as Record<string, unknown>)) {
        if (k === 'params') continue;
        if (k in PYTORCH_FLAGS) {
          if (!PYTORCH_FLAGS[k](v, this.name)) throw new ValueError(`${op}: parameter group ${gi} has ${k} = ${JSON.stringify(v)}, which wasmgrad's ${this.name} does not implement`);
          continue;
        }
        const own = known.get(k);
        if (own === undefined) {
          const near = nearestKey(k, [...known.keys()].filter((n) => n.includes('_') || !/[A-Z]/.test(n)));
          throw new ValueError(`${op}: parameter group ${gi} has an unknown key '${k}'${near ? `. Did you mean '${near}'?` : ''} (${this.name}'s: ${[...this.schema.keys].map(snake).join(', ')}, initial_lr, params)`);
        }
        o[own] = Array.isArray(v) ? v.slice() : v;
      }
      this.validate(o);
      if (o.initialLr !== undefined && (typeof o.initialLr !== 'number' || !(o.initialLr >= 0))) throw new ValueError(`${op}: parameter group ${gi}'s initial_lr must be a number >= 0, got ${describeValue(o.initialLr)}`);
      const ids = (g as Record<string, unknown>).params;
      if (ids !== undefined) {
        if (!Array.isArray(ids)) throw new ValueError(`${op}: parameter group ${gi}'s params must be an array of indices, got ${describeValue(ids)}`);
        if (ids.length !== size) throw new ValueError(`${op}: parameter group ${gi} has ${ids.length} parameter(s) in the state dict, ${size} in the optimizer`);
        ids.forEach((id, k) => {
          if (idMap.has(String(id))) throw new ValueError(`${op}: parameter index ${String(id)} appears twice in the state dict's param_groups`);
          idMap.set(String(id), flat + k);
        });
      } else {
        for (let k = 0; k < size; k++) idMap.set(String(flat + k), flat + k);
      }
      flat += size;
      return o;
    });
    const plan: [number, number, Record<string, Tensor>][] = [];
    for (const [key, s] of Object.entries(sd.state)) {
      const i = idMap.get(key);
      if (i === undefined) throw new ValueError(`${op}: state for parameter ${key}, which no parameter group lists (the optimizer has ${entries.length} parameters)`);
      if (s === null || typeof s !== 'object') throw new ValueError(`${op}: the state of parameter ${key} must be an object, got ${describeValue(s)}`);
      const p = entries[i][1];
      const names = this.stateNames(merged[entries[i][2]]).filter((n): n is string => !!n);
      if (typeof s.step !== 'number' || !Number.isInteger(s.step) || s.step < 0 || s.step > 2147483647) throw new ValueError(`${op}: parameter ${key}'s step must be an integer in [0, 2^31), got ${describeValue(s.step)}`);
      const unknown = Object.keys(s).filter((n) => n !== 'step' && !names.includes(n) && (s as Record<string, unknown>)[n] !== null);
      if (unknown.length) throw new ValueError(`${op}: parameter ${key} has unknown state ${unknown.map((n) => `'${n}'`).join(', ')} (${this.name} with these options keeps ${names.length ? names.map((n) => `'${n}'`).join(', ') : 'no tensors'})`);
      const buffers: Record<string, Tensor> = {};
      for (const n of names) {
        const t = s[n];
        if (!(t instanceof Tensor)) throw new ValueError(`${op}: parameter ${key} lacks state '${n}'${t === undefined ? '' : ` (got ${describeValue(t)})`}`);
        t.use(`${op} ('${n}')`);
        if (formatShape(t.dims) !== formatShape(p.dims)) {
          throw new ShapeError(`${op}: state '${n}' of parameter ${key} is ${t.dtype} ${formatShape(t.dims)}, the parameter ${p.dtype} ${formatShape(p.dims)}`);
        }
        if (t.dtype !== p.dtype) throw new DTypeError(`${op}: state '${n}' of parameter ${key} is ${t.dtype} ${formatShape(t.dims)}, the parameter ${p.dtype} ${formatShape(p.dims)}`);
        buffers[n] = t;
      }
      plan.push([i, s.step, buffers]);
    }
    // Checked: now replace. The copies are made before the old state is freed (a state dict may hold it).
    const fresh = plan.map(([i, step, buffers]) => {
      const own: Record<string, Tensor> = {};
      for (const [n, t] of Object.entries(buffers)) {
        const c = outsideCapture(() => keep(zeros(t.dims, { dtype: t.dtype })));
        copyInto(c, t);
        own[n] = c;
      }
      return [i, { ...newState(step), buffers: own }] as const;
    });
    for (const s of this.state.values()) { s.counter.dispose(); for (const t of Object.values(s.buffers)) t.dispose(); }
    this.state.clear();
    merged.forEach((o, gi) => Object.assign(this.paramGroups[gi].options, o));
    for (const [i, st] of fresh) this.state.set(i, st);
  }

  /** Frees the optimizer's state tensors; the optimizer cannot be used afterwards (DisposedError). Disposing again is harmless. */
  dispose(): void {
    this.disposed = true;
    for (const s of this.state.values()) { s.counter.dispose(); for (const t of Object.values(s.buffers)) t.dispose(); }
    this.state.clear();
    this.hyperTensor?.dispose();
    this.hyperTensor = undefined;
  }

  /** dispose(), for `using opt = new Adam(…)`: the state tensors are freed when the block ends. */
  [Symbol.dispose](): void { this.dispose(); }
}

/** step: the step number of this update, unless `counter` (an int32 rank-0 tensor) counts the steps in wasm */
export interface UpdateRecord { param: Tensor; grad: Tensor; state: (Tensor | null)[]; step: number; counter?: Tensor; group: number }

/** @internal ONE wasm call updating every record's parameter and state in place (checked by the caller). */
export function fusedUpdate(op: string, kind: number, records: UpdateRecord[], hypers: Partial<Record<keyof typeof H, number>>[], hyperTensor?: Tensor): void {
  if (records.length > MAX_PARAMS) throw new ValueError(`${op}: at most ${MAX_PARAMS} parameters in one step`);
  if (hypers.length > MAX_GROUPS) throw new ValueError(`${op}: at most ${MAX_GROUPS} parameter groups`);
  views();
  const base = ARGS >>> 2;
  records.forEach((w, i) => {
    const r = base + i * R_WORDS;
    I32[r] = w.param.id;
    I32[r + 1] = w.grad.id;
    for (let k = 0; k < 3; k++) I32[r + 2 + k] = w.state[k]?.id ?? 0;
    I32[r + 5] = w.step;
    I32[r + 6] = w.group;
    I32[r + 7] = w.counter?.id ?? 0;
  });
  hypers.forEach((hyper, gi) => {
    const at = (ARGS >>> 3) + HYPER_WORD / 2 + gi * H_WORDS;
    F64.fill(0, at, at + H_WORDS);
    for (const [k, v] of Object.entries(hyper)) F64[at + H[k as keyof typeof H]] = v as number;
  });
  const code = wasm.optimStep(kind, records.length, ARGS, ARGS + HYPER_WORD * 4, hyperTensor?.id ?? 0);
  if (code !== 0 || wasm.errorCode() !== 0) raise(op);
}

export const KINDS = { ...KIND, matlabAdam: 5, matlabSgdm: 6, matlabRmsprop: 7 } as const;

function gradFor(op: string, grads: Grads, name: string, p: Tensor, index: number): Tensor | undefined {
  let g: Tensor | null | undefined;
  if (grads instanceof Map) g = grads.get(p);
  else if (Array.isArray(grads)) g = grads[index];
  else if (grads !== null && typeof grads === 'object') g = (grads as Record<string, Tensor | null | undefined>)[name];
  else throw new ValueError(`${op}.step: grads must be an array of tensors, an object of tensors by parameter name, or a Map, got ${describeValue(grads)}`);
  if (g === null || g === undefined) return undefined;
  if (!(g instanceof Tensor)) throw new ValueError(`${op}.step: the gradient of '${name}' must be a Tensor, got ${describeValue(g)}`);
  return g;
}

function num(op: string, options: Record<string, any>, key: string, check: (v: number) => boolean, rule: string): number {
  const v = options[key];
  if (typeof v !== 'number' || !check(v)) throw new ValueError(`${op}: invalid ${key} value: ${typeof v === 'number' ? String(v) : describeValue(v)} (${rule})`);
  return v;
}
function bool(op: string, options: Record<string, any>, key: string): boolean {
  const v = options[key];
  if (typeof v !== 'boolean') throw new ValueError(`${op}: ${key} must be a boolean, got ${describeValue(v)}`);
  return v;
}
const nonNeg = (v: number) => v >= 0;

const SGD_OPTIONS = options('optim.SGD', {
  /** learning rate (default 1e-3) */
  lr: opt.any<number>(),
  /** momentum factor (default 0) */
  momentum: opt.any<number>(),
  /** dampening for momentum (default 0) */
  dampening: opt.any<number>(),
  /** L2 penalty added to the gradient (default 0) */
  weightDecay: opt.any<number>(),
  /** Nesterov momentum (default false; needs a momentum and zero dampening) */
  nesterov: opt.any<boolean>(),
  /** maximise the objective instead (default false) */
  maximize: opt.any<boolean>(),
});
/** Options of optim.SGD: lr (1e-3), momentum (0), dampening (0), weightDecay (0), nesterov (false), maximize (false). */
export type SGDOptions = OptionsOf<typeof SGD_OPTIONS>;

/** torch.optim.SGD (lr default 1e-3 as in torch ≥ 2.0; 1.13 required it). */
export class SGD extends Optimizer {
  protected readonly name = 'SGD';
  protected readonly defaults = { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };
  protected readonly schema: OptionSchema = SGD_OPTIONS;
  constructor(params: ParamsInput, options: SGDOptions = {}) {
    super();
    if (arguments.length > 2) checkArity('optim.SGD', arguments, 2, 'params, options?');
    this.init(params, options);
  }
  protected validate(o: Record<string, any>): void {
    num('SGD', o, 'lr', nonNeg, 'lr >= 0');
    num('SGD', o, 'momentum', nonNeg, 'momentum >= 0');
    num('SGD', o, 'dampening', Number.isFinite, 'a finite number');
    num('SGD', o, 'weightDecay', nonNeg, 'weightDecay >= 0');
    bool('SGD', o, 'maximize');
    if (bool('SGD', o, 'nesterov') && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new ValueError('SGD: Nesterov momentum requires a momentum and zero dampening');
    }
  }
  protected kind(): number { return KIND.sgd; }
  protected stateNames(o: Record<string, any>): (string | null)[] { return o.momentum !== 0 ? ['momentum_buffer'] : []; }
  protected hyper(o: Record<string, any>) {
    return { lr: o.lr, wd: o.weightDecay, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov ? 1 : 0, maximize: o.maximize ? 1 : 0 };
  }
}

const adamSpecs = {
  /** learning rate (default 1e-3) */
  lr: opt.any<number>(),
  /** coefficients of the running averages of the gradient and its square (default [0.9, 0.999]) */
  betas: opt.any<[number, number]>(),
  /** added to the denominator (default 1e-8) */
  eps: opt.any<number>(),
  /** Adam: L2 penalty added to the gradient (default 0); AdamW: decoupled decay (default 1e-2) */
  weightDecay: opt.any<number>(),
  /** the AMSGrad variant (default false) */
  amsgrad: opt.any<boolean>(),
  /** maximise the objective instead (default false) */
  maximize: opt.any<boolean>(),
};
const ADAM_OPTIONS = options('optim.Adam', adamSpecs);
const ADAMW_OPTIONS = options('optim.AdamW', adamSpecs);
/** Options of optim.Adam / optim.AdamW: lr (1e-3), betas ([0.9, 0.999]), eps (1e-8), weightDecay (Adam 0, AdamW 1e-2), amsgrad, maximize. */
export type AdamOptions = OptionsOf<typeof adamSpecs>;

function adamValidate(op: string, o: Record<string, any>): void {
  num(op, o, 'lr', nonNeg, 'lr >= 0');
  num(op, o, 'eps', nonNeg, 'eps >= 0');
  const b = o.betas;
  if (!Array.isArray(b) || b.length !== 2 || !b.every((x) => typeof x === 'number' && x >= 0 && x < 1)) {
    const got = Array.isArray(b) ? `[${b.map((x) => (typeof x === 'number' ? String(x) : describeValue(x))).join(',')}]` : describeValue(b);
    throw new ValueError(`${op}: invalid betas ${got}: expected two numbers in [0, 1)`);
  }
  num(op, o, 'weightDecay', nonNeg, 'weightDecay >= 0');
  bool(op, o, 'amsgrad');
  bool(op, o, 'maximize');
}
const adamHyper = (o: Record<string, any>) => ({ lr: o.lr, wd: o.weightDecay, beta1: o.betas[0], beta2: o.betas[1], eps: o.eps, amsgrad: o.amsgrad ? 1 : 0, maximize: o.maximize ? 1 : 0 });
const adamState = (o: Record<string, any>) => ['exp_avg', 'exp_avg_sq', o.amsgrad ? 'max_exp_avg_sq' : null];

/**
 * torch.optim.Adam: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0 (L2, added to the gradient).
 * MATLAB: adamupdate.
 *
 * @example
 * ```ts
 * const opt = new optim.Adam(net, { lr: 1e-3 });
 * for (const [x, y] of batches) {
 *   tidy(() => {
 *     const [loss, grads] = valueAndGrad((m: typeof net) => crossEntropy(m.call(x), y))(net);
 *     opt.step(grads);
 *   });
 * }
 * ```
 */
export class Adam extends Optimizer {
  protected readonly name: string = 'Adam';
  protected readonly defaults: Record<string, unknown> = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false };
  protected readonly schema: OptionSchema = ADAM_OPTIONS;
  constructor(params: ParamsInput, options: AdamOptions = {}) {
    super();
    if (arguments.length > 2) checkArity('optim.Adam', arguments, 2, 'params, options?');
    this.init(params, options);
  }
  protected validate(o: Record<string, any>): void { adamValidate(this.name, o); }
  protected kind(): number { return KIND.adam; }
  protected stateNames(o: Record<string, any>) { return adamState(o); }
  protected hyper(o: Record<string, any>) { return adamHyper(o); }
}

/** torch.optim.AdamW: Adam with decoupled weight decay (default 1e-2): p ← p·(1 − lr·wd) first. */
export class AdamW extends Optimizer {
  protected readonly name = 'AdamW';
  protected readonly defaults = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false };
  protected readonly schema: OptionSchema = ADAMW_OPTIONS;
  constructor(params: ParamsInput, options: AdamOptions = {}) {
    super();
    if (arguments.length > 2) checkArity('optim.AdamW', arguments, 2, 'params, options?');
    this.init(params, options);
  }
  protected validate(o: Record<string, any>): void { adamValidate(this.name, o); }
  protected kind(): number { return KIND.adamw; }
  protected stateNames(o: Record<string, any>) { return adamState(o); }
  protected hyper(o: Record<string, any>) { return adamHyper(o); }
}

const RMSPROP_OPTIONS = options('optim.RMSprop', {
  /** learning rate (default 1e-2) */
  lr: opt.any<number>(),
  /** smoothing constant of the squared-gradient average (default 0.99) */
  alpha: opt.any<number>(),
  /** added to the denominator (default 1e-8) */
  eps: opt.any<number>(),
  /** L2 penalty added to the gradient (default 0) */
  weightDecay: opt.any<number>(),
  /** momentum factor (default 0) */
  momentum: opt.any<number>(),
  /** normalise by an estimate of the gradient's variance (default false) */
  centered: opt.any<boolean>(),
  /** maximise the objective instead (default false) */
  maximize: opt.any<boolean>(),
});
/** Options of optim.RMSprop: lr (1e-2), alpha (0.99), eps (1e-8), weightDecay (0), momentum (0), centered (false), maximize (false). */
export type RMSpropOptions = OptionsOf<typeof RMSPROP_OPTIONS>;

/** torch.optim.RMSprop: lr 1e-2, alpha 0.99, eps 1e-8, momentum 0, centered false. */
export class RMSprop extends Optimizer {
  protected readonly name = 'RMSprop';
  protected readonly defaults = { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false };
  protected readonly schema: OptionSchema = RMSPROP_OPTIONS;
  constructor(params: ParamsInput, options: RMSpropOptions = {}) {
    super();
    if (arguments.length > 2) checkArity('optim.RMSprop', arguments, 2, 'params, options?');
    this.init(params, options);
  }
  protected validate(o: Record<string, any>): void {
    num('RMSprop', o, 'lr', nonNeg, 'lr >= 0');
    num('RMSprop', o, 'eps', nonNeg, 'eps >= 0');
    num('RMSprop', o, 'momentum', nonNeg, 'momentum >= 0');
    num('RMSprop', o, 'weightDecay', nonNeg, 'weightDecay >= 0');
    num('RMSprop', o, 'alpha', nonNeg, 'alpha >= 0');
    bool('RMSprop', o, 'centered');
    bool('RMSprop', o, 'maximize');
  }
  protected kind(): number { return KIND.rmsprop; }
  protected stateNames(o: Record<string, any>) { return ['square_avg', o.momentum > 0 ? 'momentum_buffer' : null, o.centered ? 'grad_avg' : null]; }
  protected hyper(o: Record<string, any>) {
    return { lr: o.lr, wd: o.weightDecay, alpha: o.alpha, eps: o.eps, momentum: o.momentum, centered: o.centered ? 1 : 0, maximize: o.maximize ? 1 : 0 };
  }
}

const ADAGRAD_OPTIONS = options('optim.Adagrad', {
  /** learning rate (default 1e-2) */
  lr: opt.any<number>(),
  /** learning-rate decay per step (default 0) */
  lrDecay: opt.any<number>(),
  /** L2 penalty added to the gradient (default 0) */
  weightDecay: opt.any<number>(),
  /** the starting value of the sum of squared gradients (default 0) */
  initialAccumulatorValue: opt.any<number>(),
  /** added to the denominator (default 1e-10) */
  eps: opt.any<number>(),
  /** maximise the objective instead (default false) */
  maximize: opt.any<boolean>(),
});
/** Options of optim.Adagrad: lr (1e-2), lrDecay (0), weightDecay (0), initialAccumulatorValue (0), eps (1e-10), maximize (false). */
export type AdagradOptions = OptionsOf<typeof ADAGRAD_OPTIONS>;

/** torch.optim.Adagrad: lr 1e-2, lrDecay 0, eps 1e-10, the sum starting at initialAccumulatorValue. */
export class Adagrad extends Optimizer {
  protected readonly name = 'Adagrad';
  protected readonly defaults = { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false };
  protected readonly schema: OptionSchema = ADAGRAD_OPTIONS;
  constructor(params: ParamsInput, options: AdagradOptions = {}) {
    super();
    if (arguments.length > 2) checkArity('optim.Adagrad', arguments, 2, 'params, options?');
    this.init(params, options);
  }
  protected validate(o: Record<string, any>): void {
    num('Adagrad', o, 'lr', nonNeg, 'lr >= 0');
    num('Adagrad', o, 'lrDecay', nonNeg, 'lrDecay >= 0');
    num('Adagrad', o, 'weightDecay', nonNeg, 'weightDecay >= 0');
    num('Adagrad', o, 'initialAccumulatorValue', nonNeg, 'initialAccumulatorValue >= 0');
    num('Adagrad', o, 'eps', nonNeg, 'eps >= 0');
    bool('Adagrad', o, 'maximize');
  }
  protected kind(): number { return KIND.adagrad; }
  protected stateNames(): (string | null)[] { return ['sum']; }
  protected initialState(_n: string, p: Tensor, o: Record<string, any>): Tensor { return full(p.dims, o.initialAccumulatorValue, { dtype: p.dtype as DTypeName }); }
  protected hyper(o: Record<string, any>) { return { lr: o.lr, wd: o.weightDecay, lrDecay: o.lrDecay, eps: o.eps, maximize: o.maximize ? 1 : 0 }; }
}
