// A training loop helper: minibatches → loss → gradients → optimizer step, every step in its own
// scope so the loop holds a constant set of tensors. It reports through a callback (a browser
// page draws its own progress) and, in a terminal, shows a progress bar (src/train/progress.ts) with the loss and
// the throughput. Users can always write the loop themselves with trainStep or valueAndGrad.

import { Tensor } from '../tensor.js';
import { tidy } from '../scope.js';
import { valueAndGrad, checkFunction } from '../autodiff.js';
import { ValueError } from '../errors.js';
import { requireInit } from '../runtime.js';
import { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/schedule.js';
import { clipGradNorm } from '../optim/clip.js';
import { Minibatches } from './data.js';
import { ProgressBar } from './progress.js';
import { options, opt, checkArity, describeValue, type OptionsOf } from '../options.js';

/** loss(output, target) → a scalar tensor, e.g. crossEntropy. */
export type LossFn = (output: any, target: any) => Tensor;

const TRAIN_STEP_OPTIONS = options('trainStep', {
  /** clip the gradients' global norm to this before the update (clipGradNorm) */
  clipGradNorm: opt.any<number>(),
});
export type TrainStepOptions = OptionsOf<typeof TRAIN_STEP_OPTIONS>;

/**
 * One training step: the loss of model(x) against y, its gradients with respect to every
 * parameter tensor wherever the forward pass uses it, optional clipping, one optimizer update. Returns the loss.
 * Everything it makes is freed (running statistics are updated in place).
 */
export function trainStep(model: Module, optimizer: Optimizer, loss: LossFn, x: unknown, y: unknown, opts: TrainStepOptions = {}): number {
  if (arguments.length > 6) checkArity('trainStep', arguments, 6, 'model, optimizer, loss, x, y, options?');
  requireInit('trainStep');
  checkTrainingArgs('trainStep', model, optimizer, loss);
  const options = TRAIN_STEP_OPTIONS.parse(opts);
  return tidy(() => {
    const [value, grads] = valueAndGrad((m: Module) => loss(m.call(x), y))(model);
    if (options.clipGradNorm !== undefined) clipGradNorm(grads, options.clipGradNorm);
    optimizer.step(grads);
    return Number(value.item());
  });
}

/** The model, optimizer and loss of trainStep and fit, checked before anything runs. */
function checkTrainingArgs(op: string, model: unknown, optimizer: unknown, loss: unknown): void {
  if (!(model instanceof Module)) throw new ValueError(`${op}: model must be a Module, got ${describeValue(model)}`);
  model._checkAlive(op);
  if (optimizer === null || typeof optimizer !== 'object' || typeof (optimizer as { step?: unknown }).step !== 'function') {
    throw new ValueError(`${op}: optimizer must be an optimizer (optim.SGD, optim.Adam, …), got ${describeValue(optimizer)}`);
  }
  checkFunction(op, loss, 'loss');
}

/** What fit's onBatch / onEpoch callbacks get: where training is and how the loss goes. */
export interface ProgressInfo {
  /** the epoch (1-based) */
  epoch: number;
  /** the number of epochs */
  epochs: number;
  /** batch within the epoch (1-based) */
  batch: number;
  /** batches per epoch */
  batches: number;
  /** this batch's loss and the epoch's running mean */
  loss: number;
  /** the mean loss of the epoch's batches so far */
  meanLoss: number;
  /** samples per second since the epoch began */
  samplesPerSecond: number;
  /** seconds since the epoch began */
  seconds: number;
}

const FIT_OPTIONS = options('fit', {
  /** the optimizer stepping the model's parameters (required) */
  optimizer: opt.any<Optimizer>(),
  /** loss(output, target) → a scalar tensor (required) */
  loss: opt.any<LossFn>(),
  /** passes over the data (default 1) */
  epochs: opt.any<number>(),
  /** rows per batch (default 64) */
  batchSize: opt.any<number>(),
  /** a new seeded order every epoch (default true) */
  shuffle: opt.boolean,
  /** the shuffle's seed (default 0) */
  seed: opt.any<number>(),
  /** drop the last batch when it is smaller than batchSize (default false) */
  dropLast: opt.boolean,
  /** applied to every batch before the step (augmentation): (x, y) → [x, y]; what it makes is freed after the step */
  transform: opt.func<(x: any, y: any) => readonly [any, any]>(),
  /** stepped once per epoch */
  scheduler: opt.any<LRScheduler>(),
  /** clip the gradients' global norm to this before every update */
  clipGradNorm: opt.any<number>(),
  /** called after every batch (for a page's own progress display) */
  onBatch: opt.func<(info: ProgressInfo) => void>(),
  /** called after every epoch */
  onEpoch: opt.func<(info: ProgressInfo) => void>(),
  /** the terminal progress bar: 'auto' (default: when stdout is a terminal), true or false */
  progress: opt.or(opt.boolean, opt.oneOf('auto')),
});
/** fit's options: optimizer and loss are required, the rest optional. */
export type FitOptions = OptionsOf<typeof FIT_OPTIONS> & {
  /** the optimizer stepping the model's parameters (required) */
  optimizer: Optimizer;
  /** loss(output, target) → a scalar tensor (required) */
  loss: LossFn;
};

/** What fit resolves with. */
export interface FitResult {
  /** the mean loss of every epoch */
  epochLosses: number[];
  /** the whole run's time */
  seconds: number;
  /** optimizer steps taken */
  steps: number;
}


const now = (): number => (globalThis.performance?.now?.() ?? Date.now()) / 1000;

function terminalBar(setting: boolean | 'auto'): ProgressBar | undefined {
  const proc = (globalThis as any).process;
  const stdout = proc?.stdout;
  const tty = !!stdout?.isTTY;
  if (setting === false || (setting === 'auto' && !tty) || !stdout) return undefined;
  return new ProgressBar(stdout, tty, now);
}

/**
 * Trains model on (inputs, targets) for `epochs` epochs of seeded minibatches. Resolves with the
 * mean loss of every epoch and the time taken. Async only so that a browser can repaint between
 * batches' callbacks and the terminal bar can load; the work itself is synchronous. Every problem,
 * an unknown option included, rejects the promise. (Keras: model.fit; MATLAB: trainnet.)
 *
 * @param model - the network to train
 * @param inputs - the inputs: a tensor cut into batches along dim 0, or an array with one entry per sample
 * @param targets - the targets, aligned row for row with the inputs
 * @param options - optimizer and loss (required), epochs, batchSize, shuffle, seed, callbacks, …
 *
 * @example
 * ```ts
 * const net = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
 * const { epochLosses } = await fit(net, images, labels, {
 *   optimizer: new optim.Adam(net, { lr: 1e-3 }), loss: crossEntropy, epochs: 3, batchSize: 64,
 * });
 * ```
 */
export async function fit(model: Module, inputs: Tensor | readonly unknown[], targets: Tensor | readonly unknown[], options: FitOptions): Promise<FitResult> {
  if (arguments.length > 4) checkArity('fit', arguments, 4, 'model, inputs, targets, options');
  requireInit('fit');
  if (!(model instanceof Module)) throw new ValueError(`fit: model must be a Module, got ${describeValue(model)}`);
  if (options !== null && typeof options === 'object') FIT_OPTIONS.parse(options);
  if (!options || typeof options !== 'object' || !options.optimizer || typeof options.loss !== 'function') {
    throw new ValueError(`fit: options must give an optimizer and a loss function, got ${options === null || typeof options !== 'object' ? describeValue(options) : `optimizer ${describeValue(options.optimizer)} and loss ${describeValue(options.loss)}`}`);
  }
  checkTrainingArgs('fit', model, options.optimizer, options.loss);
  if (options.transform !== undefined) checkFunction('fit', options.transform, 'the transform option');
  const epochs = options.epochs ?? 1;
  if (!Number.isInteger(epochs) || epochs < 1) throw new ValueError(`fit: epochs must be an integer >= 1, got ${typeof epochs === 'number' ? String(epochs) : describeValue(epochs)}`);
  const data = new Minibatches([inputs, targets] as const, {
    batchSize: options.batchSize, shuffle: options.shuffle, seed: options.seed, dropLast: options.dropLast,
  });
  const bar = terminalBar(options.progress ?? 'auto');
  const epochLosses: number[] = [];
  const t0 = now();
  let steps = 0;
  model.train();
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const start = now();
      let sum = 0, seen = 0, batch = 0;
      bar?.start(data.numBatches, 0, { epoch, epochs, loss: '-', speed: '-', elapsed: '0.0' });
      let info: ProgressInfo | undefined;
      for (const [x, y] of data) {
        const loss = options.transform
          ? tidy(() => { const [tx, ty] = options.transform!(x, y); return trainStep(model, options.optimizer, options.loss, tx, ty, { clipGradNorm: options.clipGradNorm }); })
          : trainStep(model, options.optimizer, options.loss, x, y, { clipGradNorm: options.clipGradNorm });
        batch++;
        steps++;
        const rows = x instanceof Tensor ? x.dims[0] : (x as unknown[]).length;
        sum += loss * rows;
        seen += rows;
        const seconds = now() - start;
        info = { epoch, epochs, batch, batches: data.numBatches, loss, meanLoss: sum / seen, samplesPerSecond: seen / Math.max(seconds, 1e-9), seconds };
        bar?.update(batch, { epoch, epochs, loss: info.meanLoss.toFixed(4), speed: Math.round(info.samplesPerSecond), elapsed: (now() - t0).toFixed(1) });
        options.onBatch?.(info);
      }
      epochLosses.push(sum / Math.max(seen, 1));
      options.scheduler?.step();
      if (info) options.onEpoch?.(info);
      bar?.stop();
    }
  } finally {
    bar?.stop();
  }
  return { epochLosses, seconds: now() - t0, steps };
}
