// Saving and loading parameters and state: the safetensors format.

/**
 * Saving and loading (import from 'wasmgrad/io', or io from 'wasmgrad'): safetensors files of
 * networks, tensors and optimizer state.
 *
 * @module wasmgrad/io
 */

export { save, load, serialize, deserialize, loadInto, loadOptimizer, SafetensorsError, type SaveOptions, type Loaded } from './safetensors.js';
