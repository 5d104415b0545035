// torch.nn.ModuleList and torch.nn.ModuleDict: containers whose entries are submodules, so their
// parameters are trained and saved under PyTorch's names ('layers.0.weight', 'heads.q.bias').
// Neither has a forward of its own (PyTorch's raise NotImplementedError): a module holding one
// iterates over it in its forward.

import { ValueError } from '../errors.js';
import { Module } from './module.js';
import { checkArity, describeValue } from '../options.js';

function notAModule(op: string, what: string, m: unknown): never {
  throw new ValueError(`${op}: ${what} must be a Module, got ${describeValue(m)}`);
}

/** An integer index into `length` entries (negative counts from the end); `end` allows index === length (insert). */
function position(op: string, i: unknown, length: number, end = false): number {
  if (typeof i !== 'number' || !Number.isInteger(i)) throw new ValueError(`${op}: index must be an integer, got ${typeof i === 'number' ? String(i) : describeValue(i)}`);
  const k = i < 0 ? i + length : i;
  if (k < 0 || k > length || (k === length && !end)) throw new ValueError(`${op}: index ${i} is out of range for ${length} module(s)`);
  return k;
}

/**
 * torch.nn.ModuleList: an ordered list of submodules named '0', '1', … (PyTorch's names:
 * `this.layers = new nn.ModuleList([...])` gives 'layers.0.weight'). `at(i)` (negative from the
 * end), iteration, `length`, `append`, `extend`, `insert`, `set(i, m)`, `pop(i?)`.
 */
export class ModuleList extends Module {
  constructor(modules: Iterable<Module> = []) {
    super();
    if (arguments.length > 1) checkArity('nn.ModuleList', arguments, 1, 'modules?');
    if (modules === null || typeof (modules as any)[Symbol.iterator] !== 'function') {
      throw new ValueError(`nn.ModuleList: expected an array (or iterable) of modules, got ${describeValue(modules)}`);
    }
    this.extend(modules);
  }

  /** The number of modules (PyTorch's len()). */
  get length(): number { return this._modules.size; }

  /** The module at index i (negative counts from the end), as PyTorch's list[i]. */
  at(i: number): Module {
    if (arguments.length > 1) checkArity('ModuleList.at', arguments, 1, 'index');
    this._checkAlive('at');
    return this.children()[position('ModuleList.at', i, this.length)];
  }

  /** Appends a module (named by its position); returns the list. */
  append(m: Module): this {
    if (arguments.length > 1) checkArity('ModuleList.append', arguments, 1, 'module');
    this._checkAlive('append');
    if (!(m instanceof Module)) notAModule('ModuleList.append', 'the module', m);
    this.registerModule(String(this.length), m);
    return this;
  }

  /** Appends every module of an iterable; returns the list. Nothing is added if one is not a Module. */
  extend(modules: Iterable<Module>): this {
    if (arguments.length > 1) checkArity('ModuleList.extend', arguments, 1, 'modules');
    this._checkAlive('extend');
    if (modules === null || typeof (modules as any)?.[Symbol.iterator] !== 'function') {
      throw new ValueError(`ModuleList.extend: expected an array (or iterable) of modules, got ${describeValue(modules)}`);
    }
    const list = [...modules];
    list.forEach((m, k) => { if (!(m instanceof Module)) notAModule('ModuleList.extend', `entry ${k}`, m); });
    for (const m of list) this.registerModule(String(this.length), m);
    return this;
  }

  /** Inserts a module before index i (negative from the end; i = length appends); later ones are renamed. */
  insert(i: number, m: Module): this {
    if (arguments.length > 2) checkArity('ModuleList.insert', arguments, 2, 'index, module');
    this._checkAlive('insert');
    if (!(m instanceof Module)) notAModule('ModuleList.insert', 'the module', m);
    // PyTorch's insert clamps like Python's list.insert; an index past either end is an error here.
    const k = position('ModuleList.insert', i, this.length, true);
    const list = this.children();
    list.splice(k, 0, m);
    this.renumber(list);
    return this;
  }

  /** Replaces the module at index i (PyTorch's list[i] = m). */
  set(i: number, m: Module): this {
    if (arguments.length > 2) checkArity('ModuleList.set', arguments, 2, 'index, module');
    this._checkAlive('set');
    if (!(m instanceof Module)) notAModule('ModuleList.set', 'the module', m);
    this.registerModule(String(position('ModuleList.set', i, this.length)), m);
    return this;
  }

  /** Removes and returns the module at index i (default the last); later ones are renamed. */
  pop(i = -1): Module {
    if (arguments.length > 1) checkArity('ModuleList.pop', arguments, 1, 'index?');
    this._checkAlive('pop');
    if (this.length === 0) throw new ValueError('ModuleList.pop: the list is empty');
    const list = this.children();
    const [m] = list.splice(position('ModuleList.pop', i, list.length), 1);
    this.renumber(list);
    return m;
  }

  private renumber(list: Module[]): void {
    const before = this.length;
    this._modules.clear();
    for (let k = list.length; k < before; k++) delete (this as any)[String(k)];
    list.forEach((m, k) => this.registerModule(String(k), m));
  }

  /** Iterates over the modules in order (PyTorch: iter(ModuleList)). */
  [Symbol.iterator](): Iterator<Module> { return this.children()[Symbol.iterator](); }

  /** A container has no forward of its own (PyTorch's ModuleList neither): iterate over it. */
  forward(..._inputs: any[]): never {
    throw new ValueError('ModuleList: a ModuleList has no forward (it is a container); call its modules in your own forward, e.g. for (const layer of this.layers) x = layer.call(x)');
  }
}

/**
 * torch.nn.ModuleDict: submodules by name, in insertion order (`this.heads = new nn.ModuleDict({
 * q: …, k: … })` gives 'heads.q.weight'). Map-like: `get`, `set`, `has`, `delete`, `keys`,
 * `values`, `entries`, `size`, `clear`, `update`; iterating it gives the keys, as PyTorch's.
 * Entries are reached with get(key), never as fields, so any name without '.' works.
 */
export class ModuleDict extends Module {
  constructor(modules: Record<string, Module> | Iterable<readonly [string, Module]> = {}) {
    super();
    if (arguments.length > 1) checkArity('nn.ModuleDict', arguments, 1, 'modules?');
    this.update(modules);
  }

  /** The number of entries (PyTorch's len()). */
  get size(): number { return this._modules.size; }

  /** The module under key (a ValueError naming the key and the nearest keys if there is none). */
  get(key: string): Module {
    if (arguments.length > 1) checkArity('ModuleDict.get', arguments, 1, 'key');
    this._checkAlive('get');
    const m = this._modules.get(key);
    if (m === undefined) {
      const keys = [...this._modules.keys()];
      throw new ValueError(`ModuleDict.get: no module under ${typeof key === 'string' ? `'${key}'` : describeValue(key)} (keys: ${keys.length ? keys.map((k) => `'${k}'`).join(', ') : 'none'})`);
    }
    return m;
  }

  /** Adds or replaces the module under key; returns the dict. */
  set(key: string, m: Module): this {
    if (arguments.length > 2) checkArity('ModuleDict.set', arguments, 2, 'key, module');
    this._checkAlive('set');
    if (typeof key !== 'string' || key === '' || key.includes('.')) {
      throw new ValueError(`ModuleDict.set: a key must be a non-empty string without '.', got ${typeof key === 'string' ? JSON.stringify(key) : describeValue(key)}`);
    }
    if (!(m instanceof Module)) notAModule('ModuleDict.set', `'${key}'`, m);
    this._modules.set(key, m);
    return this;
  }

  /** Whether a module is stored under key (PyTorch: key in ModuleDict). */
  has(key: string): boolean { this._checkAlive('has'); return this._modules.has(key); }

  /** Removes the entry under key; whether there was one. The module itself is not disposed. */
  delete(key: string): boolean { this._checkAlive('delete'); return this._modules.delete(key); }

  /** Removes and returns the module under key (PyTorch's pop). */
  pop(key: string): Module {
    const m = this.get(key);
    this._modules.delete(key);
    return m;
  }

  /** Removes every entry (the modules are not disposed). */
  clear(): void { this._checkAlive('clear'); this._modules.clear(); }

  /** Adds or replaces entries from an object or [key, module] pairs; all are checked first. */
  update(modules: Record<string, Module> | Iterable<readonly [string, Module]>): this {
    if (arguments.length > 1) checkArity('ModuleDict.update', arguments, 1, 'modules');
    this._checkAlive('update');
    if (modules === null || typeof modules !== 'object' || modules instanceof Module) {
      throw new ValueError(`ModuleDict: expected an object of modules by name or [name, module] pairs, got ${describeValue(modules)}`);
    }
    const pairs: (readonly [string, Module])[] = typeof (modules as any)[Symbol.iterator] === 'function'
      ? [...(modules as Iterable<readonly [string, Module]>)] : Object.entries(modules);
    pairs.forEach((p, k) => {
      if (!Array.isArray(p) || p.length !== 2) throw new ValueError(`ModuleDict.update: entry ${k} must be a [name, module] pair, got ${describeValue(p)}`);
      const [key, m] = p;
      if (typeof key !== 'string' || key === '' || key.includes('.')) {
        throw new ValueError(`ModuleDict.update: a key must be a non-empty string without '.', got ${typeof key === 'string' ? JSON.stringify(key) : describeValue(key)}`);
      }
      if (!(m instanceof Module)) notAModule('ModuleDict.update', `'${key}'`, m);
    });
    for (const [key, m] of pairs) this._modules.set(key, m);
    return this;
  }

  /** The keys, in insertion order (PyTorch: ModuleDict.keys). */
  keys(): IterableIterator<string> { this._checkAlive('keys'); return [...this._modules.keys()][Symbol.iterator](); }
  /** The modules, in insertion order (PyTorch: ModuleDict.values). */
  values(): IterableIterator<Module> { this._checkAlive('values'); return [...this._modules.values()][Symbol.iterator](); }
  /** [key, module] pairs, in insertion order (PyTorch: ModuleDict.items). */
  entries(): IterableIterator<[string, Module]> { this._checkAlive('entries'); return [...this._modules.entries()][Symbol.iterator](); }

  /** Iterating a ModuleDict gives its keys, as PyTorch's. */
  [Symbol.iterator](): Iterator<string> { return this.keys(); }

  /** A container has no forward of its own (PyTorch's ModuleDict neither): call its modules in yours. */
  forward(..._inputs: any[]): never {
    throw new ValueError("ModuleDict: a ModuleDict has no forward (it is a container); call its modules in your own forward, e.g. this.heads.get('q').call(x)");
  }
}
