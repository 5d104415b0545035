// torch.nn for wasmgrad: the module system, layers and initialisers.

/**
 * torch.nn for wasmgrad (import from 'wasmgrad/nn', or nn from 'wasmgrad'): Module, layers,
 * activations, containers and initialisers.
 *
 * @module wasmgrad/nn
 */

export { Module, functionalCall, Parameter, Buffer, type StateDict, type LoadOptions, type BufferOptions } from './module.js';
export * as init from './init.js';
export { ModuleList, ModuleDict } from './containers.js';
export {
  Identity, Linear, Conv1d, Conv2d, Conv3d, ConvTranspose2d, ConvTranspose3d, MaxPool2d, MaxPool3d, AvgPool2d, AvgPool3d,
  AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool2d, AdaptiveMaxPool3d, Flatten, Embedding,
  LSTM, GRU, MultiheadAttention, Sequential, BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm, Dropout,
  type BatchNormLayerOptions, type LayerNormLayerOptions, type GroupNormLayerOptions, type LinearOptions, type ConvLayerOptions, type ConvTransposeLayerOptions,
  type RnnLayerOptions, type MultiheadAttentionLayerOptions, type FactoryOptions,
} from './layers.js';
export {
  ReLU, Sigmoid, Tanh, SELU, SiLU, Swish, Mish, Hardsigmoid, LeakyReLU, ELU, GELU, Hardtanh, Softplus, Softmax, LogSoftmax,
} from './activations.js';
