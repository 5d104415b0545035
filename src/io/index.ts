// Saving and loading parameters and state: the safetensors format.

export { save, load, serialize, deserialize, loadInto, loadOptimizer, SafetensorsError, type SaveOptions, type Loaded } from './safetensors.js';
