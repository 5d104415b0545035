// MATLAB's layerGraph for branched networks: layerGraph(layers), addLayers, connectLayers,
// disconnectLayers, removeLayers, and the Layers / Connections / InputNames / OutputNames it
// reports. dlnetwork(lgraph) (src/matlab/dlnetwork.ts) checks the graph (every input connected,
// no cycle) and runs its layers in topological order.
//
// A LayerGraph is a value, as in MATLAB: each function returns a new graph and leaves the one it
// was given as it was. It holds layer descriptions only (no tensors), so copies are cheap.

import { ValueError } from '../errors.js';
import { describeValue, nearestKey } from '../options.js';
import { Layer, InputLayer } from './layers.js';

/** One connection: the output of layer `from` (port 'out') into input port `port` of layer `to`. */
export interface Edge { from: string; to: string; port: string }

/** A row of MATLAB's Connections table. */
export interface ConnectionRow {
  /** the source: 'layer' (its one output, 'out') */
  Source: string;
  /** the destination: 'layer/in', 'layer/in2', … ('layer' for a layer whose one input is 'in') */
  Destination: string;
}

/**
 * Copies of `layers` with MATLAB's default names for the unnamed ones: the stem for a kind used
 * once ('fc'), stem_1, stem_2, … when it is used more than once or the stem is taken. `taken`
 * holds the names already in use (a graph's layers).
 */
export function nameLayers(fn: string, layers: readonly unknown[], taken: ReadonlySet<string> = new Set()): Layer[] {
  if (!Array.isArray(layers) || layers.length === 0) throw new ValueError(`${fn}: layers must be a non-empty array of layers (imageInputLayer(…), convolution2dLayer(…), …), got ${describeValue(layers)}`);
  layers.forEach((l, i) => {
    if (!(l instanceof Layer)) throw new ValueError(`${fn}: layers[${i}] is ${describeValue(l)}, not a layer (make one with reluLayer(), fullyConnectedLayer(n), …)`);
  });
  const list = layers as Layer[];
  if (new Set(list).size !== list.length) throw new ValueError(`${fn}: a layer object appears twice in layers; make one per position`);
  const given = new Set(taken);
  for (const l of list) {
    if (l.Name === '') continue;
    if (given.has(l.Name)) throw new ValueError(`${fn}: two layers are named '${l.Name}'; layer names must be unique`);
    if (l.Name.includes('.') || l.Name.includes('/')) throw new ValueError(`${fn}: layer name '${l.Name}' contains '${l.Name.includes('.') ? '.' : '/'}'; use another name`);
    given.add(l.Name);
  }
  const counts = new Map<string, number>();
  for (const l of list) if (l.Name === '') counts.set(l._defaultName, (counts.get(l._defaultName) ?? 0) + 1);
  const next = new Map<string, number>();
  return list.map((l0) => {
    // Copies: names (and the sizes dlnetwork fills in) never change the caller's layers.
    const l = Object.assign(Object.create(Object.getPrototypeOf(l0)), l0) as Layer;
    if (l.Name !== '') return l;
    const stem = l._defaultName;
    let name = stem;
    if (counts.get(stem)! > 1 || given.has(stem)) {
      let k = next.get(stem) ?? 1;
      while (given.has(`${stem}_${k}`)) k++;
      name = `${stem}_${k}`;
      next.set(stem, k + 1);
    }
    given.add(name);
    l.Name = name;
    return l;
  });
}

/** The edges that chain `layers` in order (each layer's output into the next one's 'in'). */
export function chain(fn: string, layers: readonly Layer[]): Edge[] {
  const edges: Edge[] = [];
  for (let i = 1; i < layers.length; i++) {
    const l = layers[i];
    if (l.InputNames.length === 0) throw new ValueError(`${fn}: layers[${i}] ('${l.Name}', ${l.Type}) is an input layer; only the first layer of an array can be one`);
    edges.push({ from: layers[i - 1].Name, to: l.Name, port: l.InputNames[0] });
  }
  return edges;
}

/** MATLAB's LayerGraph: layers and the connections between them. Make one with layerGraph(layers). */
export class LayerGraph {
  /** the layers, in the order they were added (named) */
  readonly Layers: readonly Layer[];
  /** @internal */ readonly _edges: readonly Edge[];

  /** @internal use layerGraph(layers) */
  constructor(layers: readonly Layer[], edges: readonly Edge[]) {
    this.Layers = layers;
    this._edges = edges;
  }

  /** MATLAB's Connections table: { Source, Destination } rows ('conv_1' → 'add/in2'). */
  get Connections(): ConnectionRow[] {
    return this._edges.map((e) => ({ Source: e.from, Destination: `${e.to}/${e.port}` }));
  }

  /** The network's inputs (MATLAB's InputNames): input layers, and any input port left unconnected ('add/in2'). */
  get InputNames(): string[] {
    const out: string[] = [];
    for (const l of this.Layers) {
      if (l instanceof InputLayer) { out.push(l.Name); continue; }
      for (const p of l.InputNames) {
        if (!this._edges.some((e) => e.to === l.Name && e.port === p)) out.push(l.InputNames.length === 1 ? l.Name : `${l.Name}/${p}`);
      }
    }
    return out;
  }

  /** The network's outputs (MATLAB's OutputNames): the layers whose output goes nowhere. */
  get OutputNames(): string[] {
    return this.Layers.filter((l) => !this._edges.some((e) => e.from === l.Name)).map((l) => l.Name);
  }

  /** @internal the layer named `name`, or a ValueError naming the nearest */
  _layer(fn: string, name: string, what: string): Layer {
    const l = this.Layers.find((x) => x.Name === name);
    if (l === undefined) {
      const names = this.Layers.map((x) => x.Name);
      const near = nearestKey(name, names);
      throw new ValueError(`${fn}: ${what} names layer '${name}', which the graph does not have${near ? `. Did you mean '${near}'?` : ''} (layers: ${names.join(', ')})`);
    }
    return l;
  }
}

function checkGraph(fn: string, g: unknown): LayerGraph {
  if (!(g instanceof LayerGraph)) throw new ValueError(`${fn}: lgraph must be a layer graph (from layerGraph(layers)), got ${describeValue(g)}`);
  return g;
}

/**
 * MATLAB's layerGraph(layers): a graph of the layer array, each layer connected to the next
 * (unnamed layers get MATLAB's default names, so they can be connected by name);
 * layerGraph() is an empty graph.
 */
export function layerGraph(layers?: readonly Layer[]): LayerGraph {
  const fn = 'layerGraph';
  if (arguments.length > 1) throw new ValueError(`layerGraph: takes at most 1 argument (layers), got ${arguments.length}`);
  if (layers === undefined || (Array.isArray(layers) && layers.length === 0)) return new LayerGraph([], []);
  const named = nameLayers(fn, layers);
  return new LayerGraph(named, chain(fn, named));
}

/**
 * MATLAB's addLayers(lgraph, larray): a new graph with the layers added, connected to each other
 * in order and to nothing else (connect them with connectLayers).
 */
export function addLayers(lgraph: LayerGraph, larray: Layer | readonly Layer[]): LayerGraph {
  const fn = 'addLayers';
  const g = checkGraph(fn, lgraph);
  const list = larray instanceof Layer ? [larray] : larray;
  const named = nameLayers(fn, list, new Set(g.Layers.map((l) => l.Name)));
  return new LayerGraph([...g.Layers, ...named], [...g._edges, ...chain(fn, named)]);
}

/** 'name' or 'name/port' → [name, port] (port undefined when not given). */
function parsePort(fn: string, what: string, v: unknown): [string, string | undefined] {
  if (typeof v !== 'string' || v === '') throw new ValueError(`${fn}: ${what} must be a layer name or 'layer/port', got ${describeValue(v)}`);
  const k = v.indexOf('/');
  if (k < 0) return [v, undefined];
  if (v.indexOf('/', k + 1) >= 0) throw new ValueError(`${fn}: ${what} '${v}' has more than one '/'; give 'layer' or 'layer/port'`);
  return [v.slice(0, k), v.slice(k + 1)];
}

/** The edge a source and destination name, checked against the graph. */
function resolveEdge(fn: string, g: LayerGraph, s: unknown, d: unknown): Edge {
  const [sName, sPort] = parsePort(fn, 's', s);
  const src = g._layer(fn, sName, `s ('${String(s)}')`);
  if (sPort !== undefined && !src.OutputNames.includes(sPort)) {
    throw new ValueError(`${fn}: layer '${sName}' has no output '${sPort}' (its outputs: ${src.OutputNames.map((p) => `'${p}'`).join(', ')})`);
  }
  const [dName, dPort0] = parsePort(fn, 'd', d);
  const dst = g._layer(fn, dName, `d ('${String(d)}')`);
  const ports = dst.InputNames;
  if (ports.length === 0) throw new ValueError(`${fn}: layer '${dName}' (${dst.Type}) is an input layer; it has no inputs to connect to`);
  let port = dPort0;
  if (port === undefined) {
    if (ports.length > 1) {
      throw new ValueError(`${fn}: layer '${dName}' has inputs ${ports.map((p) => `'${p}'`).join(', ')}; name one as d: '${dName}/${ports[0]}'`);
    }
    port = ports[0];
  } else if (!ports.includes(port)) {
    const near = nearestKey(port, ports);
    throw new ValueError(`${fn}: layer '${dName}' has no input '${port}'${near ? `. Did you mean '${near}'?` : ''} (its inputs: ${ports.map((p) => `'${p}'`).join(', ')})`);
  }
  if (sName === dName) throw new ValueError(`${fn}: connecting layer '${sName}' to itself would make a cycle`);
  return { from: sName, to: dName, port };
}

/**
 * MATLAB's connectLayers(lgraph, s, d): a new graph with the output of layer s ('name' or
 * 'name/out') connected to input d of another layer ('name' for a layer with the one input
 * 'in', 'name/in2' for a port of additionLayer, concatenationLayer, …). A port takes one
 * connection.
 */
export function connectLayers(lgraph: LayerGraph, s: string, d: string): LayerGraph {
  const fn = 'connectLayers';
  const g = checkGraph(fn, lgraph);
  const e = resolveEdge(fn, g, s, d);
  const taken = g._edges.find((x) => x.to === e.to && x.port === e.port);
  if (taken !== undefined) {
    throw new ValueError(`${fn}: input '${e.to}/${e.port}' is already connected to '${taken.from}'; disconnect it first (disconnectLayers(lgraph, '${taken.from}', '${e.to}/${e.port}'))`);
  }
  return new LayerGraph(g.Layers, [...g._edges, e]);
}

/** MATLAB's disconnectLayers(lgraph, s, d): a new graph without that connection (an error if there is none). */
export function disconnectLayers(lgraph: LayerGraph, s: string, d: string): LayerGraph {
  const fn = 'disconnectLayers';
  const g = checkGraph(fn, lgraph);
  const e = resolveEdge(fn, g, s, d);
  const k = g._edges.findIndex((x) => x.from === e.from && x.to === e.to && x.port === e.port);
  if (k < 0) throw new ValueError(`${fn}: '${e.from}' is not connected to '${e.to}/${e.port}'`);
  return new LayerGraph(g.Layers, g._edges.filter((_, i) => i !== k));
}

/** MATLAB's removeLayers(lgraph, layerNames): a new graph without those layers and their connections. */
export function removeLayers(lgraph: LayerGraph, layerNames: string | readonly string[]): LayerGraph {
  const fn = 'removeLayers';
  const g = checkGraph(fn, lgraph);
  const names = typeof layerNames === 'string' ? [layerNames] : layerNames;
  if (!Array.isArray(names)) throw new ValueError(`${fn}: layerNames must be a layer name or an array of them, got ${describeValue(layerNames)}`);
  for (const n of names) g._layer(fn, n, 'layerNames');
  const gone = new Set(names);
  return new LayerGraph(g.Layers.filter((l) => !gone.has(l.Name)), g._edges.filter((e) => !gone.has(e.from) && !gone.has(e.to)));
}

/**
 * The order to run the graph's layers in (Kahn's algorithm, taking the earliest-added ready
 * layer first, so a layer array keeps its order), after checking that the graph has no cycle.
 */
export function topologicalOrder(fn: string, layers: readonly Layer[], edges: readonly Edge[]): Layer[] {
  const indegree = new Map(layers.map((l) => [l.Name, 0]));
  for (const e of edges) indegree.set(e.to, indegree.get(e.to)! + 1);
  const done = new Set<string>();
  const order: Layer[] = [];
  while (order.length < layers.length) {
    const ready = layers.find((l) => !done.has(l.Name) && indegree.get(l.Name) === 0);
    if (ready === undefined) {
      const cyc = layers.filter((l) => !done.has(l.Name)).map((l) => `'${l.Name}'`);
      throw new ValueError(`${fn}: the layer graph has a cycle through ${cyc.join(', ')}; a network's connections must run one way`);
    }
    done.add(ready.Name);
    order.push(ready);
    for (const e of edges) if (e.from === ready.Name) indegree.set(e.to, indegree.get(e.to)! - 1);
  }
  return order;
}
