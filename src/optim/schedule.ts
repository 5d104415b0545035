// Learning-rate schedules (torch.optim.lr_scheduler), with PyTorch's recursive ("chainable")
// update formulas so the rates match it step for step. Construction takes the initial step, as
// PyTorch does (LinearLR's warm-up starts at startFactor·lr). cos runs in wasm for determinism.

import { wasm, requireInit } from '../runtime.js';
import { ValueError } from '../errors.js';
import type { Optimizer } from './optimizer.js';
import { options, opt, checkArity, describeValue, type OptionsOf } from '../options.js';

/**
 * The base of the learning-rate schedules (PyTorch: torch.optim.lr_scheduler.LRScheduler): each
 * step() sets the optimizer's groups' lr for the next epoch, with PyTorch's chainable formulas.
 */
export abstract class LRScheduler {
  /** the epoch count: 0 after construction, +1 per step() */
  lastEpoch = -1;
  /** each group's initial lr (PyTorch's base_lrs) */
  readonly baseLrs: number[];
  protected lastLrs: number[] = [];

  /** @param optimizer - the optimizer whose groups' lr this schedule sets */
  constructor(readonly optimizer: Optimizer) {
    requireInit('LRScheduler');
    if (!optimizer || !Array.isArray((optimizer as Optimizer).paramGroups)) throw new ValueError(`${this.constructor.name}: expected an optimizer`);
    for (const g of optimizer.paramGroups) if (g.options.initialLr === undefined) g.options.initialLr = g.options.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.options.initialLr);
  }

  /** The rates for lastEpoch from the groups' current rates. */
  protected abstract getLr(): number[];

  /** Advances one epoch (or step) and sets the groups' learning rates. */
  step(): void {
    this.lastEpoch++;
    const lrs = this.getLr();
    this.optimizer.paramGroups.forEach((g, i) => { g.options.lr = lrs[i]; });
    this.lastLrs = lrs;
  }

  /** The rates the last step() set (PyTorch's get_last_lr). */
  getLastLr(): number[] { return this.lastLrs.slice(); }

  protected groupLrs(): number[] { return this.optimizer.paramGroups.map((g) => g.options.lr); }

  /** The schedule's settings: PyTorch's state-dict name → this object's field (none for a schedule of your own unless it says). */
  protected settings(): Record<string, string> { return {}; }

  /**
   * PyTorch's scheduler state_dict(): `{ last_epoch, base_lrs, _last_lr, _step_count }` and the
   * schedule's settings under PyTorch's names (step_size, gamma, T_max, eta_min, start_factor,
   * end_factor, total_iters). Plain numbers: JSON.stringify keeps them exactly.
   */
  stateDict(): Record<string, number | number[]> {
    if (arguments.length > 0) checkArity(`${this.constructor.name}.stateDict`, arguments, 0, '');
    const out: Record<string, number | number[]> = {
      last_epoch: this.lastEpoch, base_lrs: this.baseLrs.slice(), _last_lr: this.lastLrs.slice(), _step_count: this.lastEpoch + 1,
    };
    for (const [k, field] of Object.entries(this.settings())) out[k] = (this as any)[field];
    return out;
  }

  /**
   * Restores a state dict from stateDict(): the epoch, the base and last rates and the settings,
   * and sets the optimizer's rates to the last ones (so it does not matter whether the optimizer's
   * state was loaded before or after this scheduler was made). Every key is checked first.
   */
  loadStateDict(sd: Record<string, number | number[]>): void {
    const op = `${this.constructor.name}.loadStateDict`;
    if (arguments.length > 1) checkArity(op, arguments, 1, 'stateDict');
    if (sd === null || typeof sd !== 'object' || Array.isArray(sd)) throw new ValueError(`${op}: expected an object as stateDict() returns, got ${describeValue(sd)}`);
    const settings = this.settings();
    const known = ['last_epoch', 'base_lrs', '_last_lr', '_step_count', ...Object.keys(settings)];
    const unknown = Object.keys(sd).filter((k) => !known.includes(k));
    if (unknown.length) throw new ValueError(`${op}: unknown key(s) ${unknown.map((k) => `'${k}'`).join(', ')} (${this.constructor.name}'s: ${known.join(', ')})`);
    const n = this.optimizer.paramGroups.length;
    const rates = (k: string): number[] => {
      const v = sd[k];
      if (!Array.isArray(v) || v.length !== n || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
        throw new ValueError(`${op}: '${k}' must be an array of ${n} finite number(s) (one per parameter group), got ${describeValue(v)}`);
      }
      return v.slice();
    };
    const last = sd.last_epoch;
    if (typeof last !== 'number' || !Number.isInteger(last) || last < -1) throw new ValueError(`${op}: 'last_epoch' must be an integer >= -1, got ${describeValue(last)}`);
    const base = rates('base_lrs'), lastLrs = rates('_last_lr');
    const values: Record<string, number> = {};
    for (const k of Object.keys(settings)) {
      const v = sd[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`${op}: '${k}' must be a finite number, got ${describeValue(v)}`);
      values[settings[k]] = v;
    }
    this.lastEpoch = last;
    this.baseLrs.splice(0, this.baseLrs.length, ...base);
    this.lastLrs = lastLrs;
    Object.assign(this, values);
    this.optimizer.paramGroups.forEach((g, i) => { g.options.initialLr = base[i]; g.options.lr = lastLrs[i]; });
  }
}

function positiveInt(op: string, v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new ValueError(`${op}: ${name} must be an integer > 0, got ${String(v)}`);
  return v;
}
function finite(op: string, v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`${op}: ${name} must be a finite number, got ${String(v)}`);
  return v;
}

/** Multiplies the rate by gamma every stepSize epochs. */
export class StepLR extends LRScheduler {
  /** epochs between decays */
  readonly stepSize: number;
  /** the factor per decay (default 0.1) */
  readonly gamma: number;
  /**
   * @param optimizer - the optimizer to schedule
   * @param stepSize - epochs between decays
   * @param gamma - the factor per decay (default 0.1)
   */
  constructor(optimizer: Optimizer, stepSize: number, gamma = 0.1) {
    if (arguments.length > 3) checkArity('optim.StepLR', arguments, 3, 'optimizer, stepSize, gamma?');
    super(optimizer);
    this.stepSize = positiveInt('StepLR', stepSize, 'stepSize');
    this.gamma = finite('StepLR', gamma, 'gamma');
    this.step();
  }
  protected settings() { return { step_size: 'stepSize', gamma: 'gamma' }; }
  protected getLr(): number[] {
    const lrs = this.groupLrs();
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return lrs;
    return lrs.map((lr) => lr * this.gamma);
  }
}

/** Multiplies the rate by gamma every epoch. */
export class ExponentialLR extends LRScheduler {
  /** the factor per epoch */
  readonly gamma: number;
  /**
   * @param optimizer - the optimizer to schedule
   * @param gamma - the factor per epoch
   */
  constructor(optimizer: Optimizer, gamma: number) {
    if (arguments.length > 2) checkArity('optim.ExponentialLR', arguments, 2, 'optimizer, gamma');
    super(optimizer);
    this.gamma = finite('ExponentialLR', gamma, 'gamma');
    this.step();
  }
  protected settings() { return { gamma: 'gamma' }; }
  protected getLr(): number[] {
    const lrs = this.groupLrs();
    return this.lastEpoch === 0 ? lrs : lrs.map((lr) => lr * this.gamma);
  }
}

/** Cosine annealing from the base rate to etaMin over tMax epochs (SGDR without restarts). */
export class CosineAnnealingLR extends LRScheduler {
  /** epochs of the half cosine (PyTorch's T_max) */
  readonly tMax: number;
  /** the lowest rate (default 0) */
  readonly etaMin: number;
  /**
   * @param optimizer - the optimizer to schedule
   * @param tMax - epochs of the half cosine (PyTorch's T_max)
   * @param etaMin - the lowest rate (default 0)
   */
  constructor(optimizer: Optimizer, tMax: number, etaMin = 0) {
    if (arguments.length > 3) checkArity('optim.CosineAnnealingLR', arguments, 3, 'optimizer, tMax, etaMin?');
    super(optimizer);
    this.tMax = positiveInt('CosineAnnealingLR', tMax, 'tMax');
    this.etaMin = finite('CosineAnnealingLR', etaMin, 'etaMin');
    this.step();
  }
  protected settings() { return { T_max: 'tMax', eta_min: 'etaMin' }; }
  protected getLr(): number[] {
    const lrs = this.groupLrs(), T = this.tMax, e = this.lastEpoch, min = this.etaMin;
    if (e === 0) return lrs;
    if ((e - 1 - T) % (2 * T) === 0) {
      return lrs.map((lr, i) => lr + (this.baseLrs[i] - min) * (1 - wasm.scalarCos(Math.PI / T)) / 2);
    }
    return lrs.map((lr) => (1 + wasm.scalarCos(Math.PI * e / T)) / (1 + wasm.scalarCos(Math.PI * (e - 1) / T)) * (lr - min) + min);
  }
}

const LINEAR_LR_OPTIONS = options('optim.LinearLR', {
  /** the first step's factor, in (0, 1] (default 1/3) */
  startFactor: opt.any<number>(),
  /** the factor after totalIters steps, in [0, 1] (default 1) */
  endFactor: opt.any<number>(),
  /** steps from startFactor to endFactor (default 5) */
  totalIters: opt.any<number>(),
});
/** Options of LinearLR: startFactor (1/3), endFactor (1), totalIters (5). */
export type LinearLROptions = OptionsOf<typeof LINEAR_LR_OPTIONS>;

/**
 * Linear warm-up (torch.optim.lr_scheduler.LinearLR): the rate goes from startFactor·lr to
 * endFactor·lr over totalIters steps, then stays.
 */
export class LinearLR extends LRScheduler {
  /** the first step's factor (default 1/3) */
  readonly startFactor: number;
  /** the factor after totalIters steps (default 1) */
  readonly endFactor: number;
  /** steps from startFactor to endFactor (default 5) */
  readonly totalIters: number;
  /**
   * @param optimizer - the optimizer to schedule
   * @param opts - startFactor, endFactor, totalIters
   */
  constructor(optimizer: Optimizer, opts: LinearLROptions = {}) {
    if (arguments.length > 2) checkArity('optim.LinearLR', arguments, 2, 'optimizer, options?');
    const options = LINEAR_LR_OPTIONS.parse(opts);
    super(optimizer);
    this.startFactor = finite('LinearLR', options.startFactor ?? 1 / 3, 'startFactor');
    this.endFactor = finite('LinearLR', options.endFactor ?? 1, 'endFactor');
    this.totalIters = positiveInt('LinearLR', options.totalIters ?? 5, 'totalIters');
    if (!(this.startFactor > 0 && this.startFactor <= 1)) throw new ValueError(`LinearLR: startFactor must be in (0, 1], got ${this.startFactor}`);
    if (!(this.endFactor >= 0 && this.endFactor <= 1)) throw new ValueError(`LinearLR: endFactor must be in [0, 1], got ${this.endFactor}`);
    this.step();
  }
  protected settings() { return { start_factor: 'startFactor', end_factor: 'endFactor', total_iters: 'totalIters' }; }
  protected getLr(): number[] {
    const lrs = this.groupLrs(), s = this.startFactor, f = this.endFactor, e = this.lastEpoch;
    if (e === 0) return lrs.map((lr) => lr * s);
    if (e > this.totalIters) return lrs;
    return lrs.map((lr) => lr * (1 + (f - s) / (this.totalIters * s + (e - 1) * (f - s))));
  }
}

/** A linear warm-up: lr·1/steps, lr·2/steps, …, lr over the first `steps` steps, then lr (a LinearLR). */
export function linearWarmup(optimizer: Optimizer, steps: number): LinearLR {
  if (arguments.length > 2) checkArity('optim.linearWarmup', arguments, 2, 'optimizer, steps');
  positiveInt('linearWarmup', steps, 'steps');
  return new LinearLR(optimizer, { startFactor: 1 / steps, endFactor: 1, totalIters: Math.max(steps - 1, 1) });
}
