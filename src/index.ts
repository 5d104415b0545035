// wasmgrad: automatic differentiation on WebAssembly SIMD.

/**
 * wasmgrad: automatic differentiation on WebAssembly SIMD. Tensors in wasm memory and ops with
 * PyTorch's semantics, gradients in JAX's dialect (valueAndGrad, grad, jvp) and MATLAB's (dlfeval,
 * dlgradient), networks (nn), optimizers (optim), safetensors files (io) and training (fit).
 * Start with init().
 *
 * @module wasmgrad
 */

export { init, threadCount, type WasmSource, type InitOptions } from './runtime.js';
export {
  Tensor, tensor, zeros, ones, full, isTensor, type DTypeName, type NestedArray, type Shape,
  type NestedNumbers, type NestedBooleans,
  type TensorOptions, type CreateOptions,
} from './tensor.js';
export { tidy, keep, dispose, memory, resetPeakMemory, setMemoryLimit, setLiveTensorWarning, type MemoryInfo } from './scope.js';
export {
  valueAndGrad, grad, dlfeval, dlgradient, trace, traceJvp, Trace, type TraceNode, type GradOptions,
  type GradOf, type GradsAt, type GradTransformOptions,
  type DlgradientOptions,
} from './autodiff.js';
export {
  jvp, jacfwd, jacobian, jacrev, hvp, hessian, dljacobian, dldivergence, dllaplacian,
  type DlOperatorOptions,
} from './forward.js';
export {
  customGrad, customJvp, checkpoint, stopGradient, detach, vjp, type VjpRule, type JvpRule,
  type CustomGradOptions,
} from './custom.js';
export * from './ops/elementwise.js';
export * from './ops/reduce.js';
export * from './ops/shape.js';
export * from './ops/matmul.js';
export { lstm, gru, type RnnParams, type RnnOptions } from './ops/recurrent.js';
export {
  scaledDotProductAttention, multiHeadAttention, type SdpaOptions, type MultiHeadAttentionParams,
  type MultiHeadAttentionOptions,
} from './ops/attention.js';
export * from './ops/indexing.js';
export * from './ops/nn-linear.js';
export {
  conv1d, conv2d, convTranspose1d, convTranspose2d, type ConvOptions, type ConvTransposeOptions,
  type Spatial,
} from './ops/conv.js';
export { conv3d, convTranspose3d } from './ops/conv3d.js';
export {
  maxPool1d, maxPool2d, avgPool1d, avgPool2d, adaptiveAvgPool1d, adaptiveAvgPool2d, adaptiveMaxPool1d, adaptiveMaxPool2d,
  globalAvgPool2d, globalMaxPool2d, maxUnpool2d, type MaxPoolOptions, type AvgPoolOptions, type MaxUnpoolOptions,
  type AdaptiveMaxPoolOptions,
} from './ops/pool.js';
export { maxPool3d, avgPool3d, adaptiveAvgPool3d, adaptiveMaxPool3d } from './ops/pool3d.js';
export * from './ops/activation.js';
// softplus with PyTorch's beta / threshold options replaces the elementwise one (same defaults; exported
// below with the MATLAB layer's format-keeping ops)
export * from './ops/norm.js';
export * from './ops/loss.js';
export * from './ops/dropout.js';
export * from './ops/linalg.js';
export * from './ops/linalg-composite.js';
export * from './ops/sampling.js';
export * from './ops/search.js';
export * from './ops/distance.js';
export * from './ops/masked.js';
export { rand, randn, uniform, normal, seed, manualSeed, type RandOptions } from './random.js';
export { arange, linspace, eye, zerosLike, onesLike, fullLike } from './creation.js';
export {
  WasmgradError, ShapeError, AxisError, DTypeError, ValueError, DisposedError, OutOfMemoryError,
  NotDifferentiableError, InitError, LinAlgError, IOError,
} from './errors.js';
export { Op, DType } from '../assembly/core/vocabulary.js';

// MATLAB names, for people coming from Deep Learning Toolbox: dlarray with data formats ('SSCB',
// 'CB', …) and the deep-learning functions that read them (docs/dlarray.md). The elementwise ops
// and activations listed here replace the plain ones of the same names (from the star exports
// above) so that formatted operands keep their format; unformatted operands go straight through.
export {
  dlarray, dims, finddim, stripdims, extractdata, leakyrelu, type DlarrayOptions,
  add, sub, mul, div, pow, maximum, minimum, logaddexp, eq, ne, lt, le, gt, ge, where, neg, abs, sign, square, sqrt,
  rsqrt, exp, log, log1p, expm1, sin, cos, tan, tanh, sigmoid, relu, erf, clamp, cast, clone, logSoftmax, leakyRelu,
  elu, selu, gelu, silu, swish, mish, hardtanh, hardsigmoid, softplus, sum, mean, prod, max, min,
} from './matlab/dlarray.js';
export {
  fullyconnect, dlconv, dltranspconv, maxpool, avgpool, batchnorm, crosschannelnorm, softmax,
} from './matlab/dlnn.js';

// Networks, optimizers, safetensors, training.
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as io from './io/index.js';
export { functionalCall } from './nn/module.js';
export { lbfgsupdate, lbfgsState } from './optim/matlab.js';
export {
  imageInputLayer, featureInputLayer, convolution2dLayer, batchNormalizationLayer, reluLayer, leakyReluLayer,
  maxPooling2dLayer, averagePooling2dLayer, fullyConnectedLayer, softmaxLayer, dropoutLayer, flattenLayer, Layer,
  transposedConv2dLayer, tanhLayer, sigmoidLayer, projectAndReshapeLayer, additionLayer, concatenationLayer,
  depthConcatenationLayer, sequenceInputLayer, lstmLayer, gruLayer,
  type AdditionLayer, type ConcatenationLayer, type DepthConcatenationLayer, type MergeLayer, type SequenceInputLayer,
  type RecurrentLayer, type LSTMLayer, type GRULayer, type RecurrentWeightsInitializer,
  type TransposedConvolution2DLayer, type TanhLayer, type SigmoidLayer, type ProjectAndReshapeLayer,
  type InputLayer, type ImageInputLayer, type FeatureInputLayer, type Convolution2DLayer, type BatchNormalizationLayer,
  type ReLULayer, type LeakyReLULayer, type SoftmaxLayer, type FlattenLayer, type DropoutLayer, type Pooling2DLayer,
  type FullyConnectedLayer, type WeightsInitializer, type BiasInitializer,
} from './matlab/layers.js';
export {
  dlnetwork, DlNetwork, forward, predict, initialize, dlupdate, adamupdate, sgdmupdate, rmspropupdate, resetState,
  type TableRow, type Table, type DlnetworkOptions,
} from './matlab/dlnetwork.js';
export {
  layerGraph, addLayers, connectLayers, disconnectLayers, removeLayers, LayerGraph, type ConnectionRow,
} from './matlab/layergraph.js';
export {
  crossentropy, mse, l1loss, l2loss, huber, ctc, type DataLike, type CrossentropyOptions, type MseOptions,
  type L1lossOptions, type L2lossOptions, type MatlabHuberOptions, type MatlabCtcOptions,
} from './matlab/losses.js';
export {
  onehotencode, onehotdecode, minibatchqueue, next, hasdata, reset, shuffle, type MiniBatchQueue, type MinibatchqueueOptions,
  type OnehotencodeOptions, type Datastore, type DatastoreLike, type Label, type LabelsLike,
} from './matlab/data.js';
export { randint, multinomial, type RandintOptions, type MultinomialOptions } from './ops/draw.js';
export { dlode45, type OdeFunction, type TimeSpan, type Dlode45Options } from './matlab/ode.js';
export { minibatches, Minibatches, randperm, seededRandom, type MinibatchOptions } from './train/data.js';
export { fit, trainStep, type FitOptions, type FitResult, type ProgressInfo, type LossFn } from './train/fit.js';
export { accelerate, NotAcceleratableError, type AccelerateOptions, type AcceleratedFunction } from './accelerate.js';
