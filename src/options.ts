// Declared option schemas. Every public function or class that takes an options object declares
// its keys once, with the type of each value: the run-time check and the TypeScript option type
// both come from that declaration (`type XOptions = OptionsOf<typeof X_OPTIONS>`), so the two can
// never disagree. An unknown key is a ValueError that names the function, the key, the valid keys
// and the nearest one (`keepDims` → `keepdims`, `weight_decay` → `weightDecay`, `epoch` →
// `epochs`); a value of the wrong type is a ValueError naming the key. Nothing is silently ignored.
//
// Extra positional arguments are checked the same way (`checkArity`): a call with more arguments
// than the signature has names the function, its signature and the first extra argument.

import { ValueError } from './errors.js';

/** The declared type of one option: what it expects (for messages) and a test of a value. */
export interface Spec<T> {
  readonly expects: string;
  readonly test: (v: unknown) => boolean;
  /** the TypeScript type the spec stands for (never set at run time) */
  readonly type?: T;
}

const spec = <T>(expects: string, test: (v: unknown) => boolean): Spec<T> => ({ expects, test });

type Literal = string | number | boolean | null;

/** Specs for option values. `any<T>()` is for values the function checks itself (it still declares the key and its type). */
export const opt = {
  boolean: spec<boolean>('a boolean', (v) => typeof v === 'boolean'),
  number: spec<number>('a number', (v) => typeof v === 'number'),
  integer: spec<number>('an integer', (v) => Number.isInteger(v)),
  string: spec<string>('a string', (v) => typeof v === 'string'),
  func: <F extends (...args: any[]) => unknown = (...args: any[]) => unknown>(): Spec<F> =>
    spec<F>('a function', (v) => typeof v === 'function'),
  oneOf: <const V extends readonly Literal[]>(...values: V): Spec<V[number]> =>
    spec<V[number]>(`one of ${values.map(show).join(', ')}`, (v) => values.includes(v as Literal)),
  /** a value of one of several specs */
  or: <A, B>(a: Spec<A>, b: Spec<B>): Spec<A | B> => spec<A | B>(`${a.expects} or ${b.expects}`, (v) => a.test(v) || b.test(v)),
  /** the value or null */
  nullable: <T>(s: Spec<T>): Spec<T | null> => spec<T | null>(`${s.expects} or null`, (v) => v === null || s.test(v)),
  any: <T>(): Spec<T> => spec<T>('', () => true),
};

export type SpecMap = Record<string, Spec<any>>;

/** The options object type of a schema: every declared key optional, with its spec's type (doc comments carry over). */
export type OptionsOf<S> = S extends OptionSchema<infer M> ? OptionsOfMap<M> : OptionsOfMap<S>;
type OptionsOfMap<M> = { -readonly [K in keyof M]?: M[K] extends Spec<infer T> ? T : never };

const EMPTY = Object.freeze({});

export class OptionSchema<M extends SpecMap = SpecMap> {
  readonly keys: readonly string[];
  constructor(readonly fn: string, readonly specs: M) {
    this.keys = Object.keys(specs);
  }

  /**
   * Checks an options argument (undefined means none) and returns it typed. `what` names the
   * argument in messages ('options', 'a parameter group', …); `fn` overrides the function's name
   * for schemas shared by several functions.
   */
  parse(value: unknown, fn: string = this.fn, what = 'options'): OptionsOfMap<M> {
    if (value === undefined) return EMPTY as OptionsOfMap<M>;
    if (!isPlainObject(value)) {
      const keys = this.keys.length ? ` (keys: ${this.keys.join(', ')})` : '';
      throw new ValueError(`${fn}: ${what} must be an object${keys}, got ${describeValue(value)}`);
    }
    for (const key in value) {
      if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
      const s = this.specs[key] as Spec<unknown> | undefined;
      if (s === undefined) throw unknownKey(fn, what, key, this.keys);
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined && !s.test(v)) {
        throw new ValueError(`${fn}: option '${key}' must be ${s.expects}, got ${describeValue(v)}`);
      }
    }
    return value as OptionsOfMap<M>;
  }

  /** A schema with more keys (for a function whose options extend another's). */
  extend<N extends SpecMap>(fn: string, more: N): OptionSchema<M & N> {
    return options(fn, { ...this.specs, ...more });
  }
}

const registry = new Map<string, OptionSchema>();

/** Declares the options of `fn` (one schema per function; the registry lets the tests reach every one). */
export function options<const M extends SpecMap>(fn: string, specs: M): OptionSchema<M> {
  const s = new OptionSchema(fn, specs);
  registry.set(fn, s as OptionSchema);
  return s;
}

/** @internal every declared schema by function name (the options test walks them all). */
export function optionSchemas(): ReadonlyMap<string, OptionSchema> { return registry; }

/**
 * Rejects a call with more than `max` positional arguments: `signature` is the parameter list as
 * a user reads it ('name, tensor, persistent?').
 */
export function checkArity(fn: string, args: ArrayLike<unknown>, max: number, signature: string): void {
  if (args.length <= max) return;
  // Trailing undefineds are what a wrapper passing its own optional arguments through gives.
  let n = args.length;
  while (n > max && args[n - 1] === undefined) n--;
  if (n <= max) return;
  throw new ValueError(`${fn}: takes at most ${max} argument${max === 1 ? '' : 's'} (${signature}), got ${n}; ` +
    `argument ${max + 1} is ${describeValue(args[max])}`);
}

function unknownKey(fn: string, what: string, key: string, valid: readonly string[]): ValueError {
  const near = nearestKey(key, valid);
  const hint = near !== undefined ? ` Did you mean '${near}'?` : '';
  const list = valid.length ? `valid keys: ${valid.map((k) => `'${k}'`).join(', ')}` : 'it takes no options';
  return new ValueError(`${fn}: unknown ${what === 'options' ? 'option' : `key in ${what}`} '${key}'.${hint} (${list})`);
}

/** snake_case and kebab-case to camelCase, then lower case: 'weight_decay' and 'weightDecay' meet. */
const normalise = (k: string): string => k.replace(/[_-]+([a-z0-9])/gi, (_, c: string) => c.toUpperCase()).toLowerCase();

/**
 * The valid key nearest to `key`: the same after normalising case and snake_case; else one that
 * contains the other (`epsilon` → `eps`, `causal` → `isCausal`) or shares its stem (`reduce` →
 * `reduction`); else the smallest edit distance within a third of the key's length.
 */
export function nearestKey(key: string, valid: readonly string[]): string | undefined {
  const k = normalise(key);
  const same = valid.find((v) => normalise(v) === k);
  if (same !== undefined) return same;
  let best: string | undefined, bestD = Infinity;
  for (const v of valid) {
    const n = normalise(v);
    const d = levenshtein(k, n);
    if (d < bestD) { bestD = d; best = v; }
  }
  if (best !== undefined && bestD <= Math.max(1, Math.floor(k.length / 3))) return best;
  const contains = valid.filter((v) => {
    const n = normalise(v);
    const shorter = Math.min(n.length, k.length);
    if (shorter < 3) return false;
    if (n.startsWith(k) || k.startsWith(n) || n.endsWith(k) || k.endsWith(n)) return true;
    // a stem with another ending: 'reduce' → 'reduction', 'train' → 'training'
    let p = 0;
    while (p < shorter && n[p] === k[p]) p++;
    return p >= 4 && p >= shorter - 1;
  });
  return contains.length === 1 ? contains[0] : undefined;
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment): 'dtpye' → 'dtype' is 1. */
function levenshtein(a: string, b: string): number {
  let before: number[] = [], prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j], before[j - 2] + 1);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length];
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

/** A value as a message shows it: 'null', 'an array', 'a Tensor', 'the boolean false', 'the string "SSCB"'. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string': return `the string ${JSON.stringify(v)}`;
    case 'number': case 'boolean': case 'bigint': return `the ${typeof v} ${String(v)}`;
    case 'undefined': return 'undefined';
    case 'function': return 'a function';
    case 'symbol': return 'a symbol';
  }
  const name = (v as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

function show(v: Literal): string { return typeof v === 'string' ? `'${v}'` : String(v); }
