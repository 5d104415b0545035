// torch.optim and MATLAB's update functions: optimizers with fused wasm updates, L-BFGS,
// learning-rate schedules and gradient clipping.

/**
 * torch.optim for wasmgrad (import from 'wasmgrad/optim', or optim from 'wasmgrad'): optimizers,
 * L-BFGS, learning-rate schedules and gradient clipping.
 *
 * @module wasmgrad/optim
 */

export {
  Optimizer, SGD, Adam, AdamW, RMSprop, Adagrad, type SGDOptions, type AdamOptions, type RMSpropOptions,
  type AdagradOptions, type ParamsInput, type ParamGroupInput, type Grads, type OptimizerStateDict, type LegacyOptimizerStateDict,
} from './optimizer.js';
export { LBFGS, type LBFGSOptions, type LBFGSStateDict, type Closure } from './lbfgs.js';
export { LRScheduler, StepLR, ExponentialLR, CosineAnnealingLR, LinearLR, linearWarmup, type LinearLROptions } from './schedule.js';
export { clipGradNorm, clipGradValue, type ClipNormOptions } from './clip.js';
export {
  adamupdate, sgdmupdate, rmspropupdate, lbfgsupdate, lbfgsState, LbfgsState, type LbfgsUpdateOptions, type LbfgsStateOptions,
} from './matlab.js';
