// Turning measurements into figures, the terminal table and bench/RESULTS.md.

export const COLUMNS = ['wasmgrad', 'tfjs-wasm', 'tfjs-cpu', 'jax-eager', 'jax-jit'];

const CEILING_NAMES = {
  f32: ['f32GFLOPS', 'f32x4 mul+add peak'],
  f64: ['f64GFLOPS', 'f64x2 mul+add peak'],
  copy: ['copyCacheGBs', 'v128 copy, 4 MiB buffers'],
  read: ['readCacheGBs', 'v128 read, 4 MiB buffer'],
};

/** The case's figure for a time per op in seconds (higher is better except ms/step). */
export function figureOf(c, seconds) {
  switch (c.unit) {
    case 'GFLOPS': return c.work / seconds / 1e9;
    case 'GB/s': return c.work / seconds / 1e9;
    case 'ms/step': return seconds * 1e3;
    case 'eval/s': return 1 / seconds;
    default: throw new Error(`unknown unit ${c.unit}`);
  }
}

export function ceilingFor(c, ceiling) {
  if (!c.ceiling || !ceiling) return null;
  const [key, name] = CEILING_NAMES[c.ceiling];
  return { value: ceiling[key], name };
}

const fmt = (x) => {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e5) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
};
const pct = (x) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;

/**
 * One cell: the figure, its fraction of the ceiling, and (for peers) wasmgrad's speed-up over
 * the peer (peer time ÷ wasmgrad time; > 1 means wasmgrad is faster).
 */
export function cell(row, peer) {
  const r = row.peers[peer];
  if (!r) return '';
  if (r.status === 'unsupported') return `n/a: ${r.reason}`;
  if (r.status === 'error') return `error: ${r.reason}`;
  if (r.status === 'mismatch') return `WRONG RESULT (rel. error ${r.error.toExponential(1)}), not timed`;
  let s = `${fmt(r.figure)} ±${r.rme.toFixed(0)}%`;
  if (r.ofCeiling != null) s += ` (${pct(r.ofCeiling)})`;
  if (peer !== 'wasmgrad' && r.wasmgradSpeedup != null) s += ` wg ×${r.wasmgradSpeedup.toFixed(2)}`;
  if (peer === 'wasmgrad' && r.overEager != null) s += ` ×${r.overEager.toFixed(1)} over eager`;
  return s;
}

function pad(s, n) { return s + ' '.repeat(Math.max(0, n - [...s].length)); }

/** A plain-text table for the terminal. */
export function textTable(rows) {
  const header = ['case', 'unit', ...COLUMNS];
  const lines = rows.map((row) => [`${row.group}: ${row.label}`, row.unit, ...COLUMNS.map((p) => cell(row, p))]);
  const widths = header.map((h, k) => Math.max([...h].length, ...lines.map((l) => [...l[k]].length)));
  const fmtLine = (l) => l.map((s, k) => pad(s, widths[k])).join(' | ');
  return [fmtLine(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...lines.map(fmtLine)].join('\n');
}

/** bench/RESULTS.md */
export function markdown(results) {
  const { env, ceiling, rows } = results;
  const out = [];
  out.push('# wasmgrad benchmark results', '');
  out.push(`Measured ${env.date} with \`${env.command}\`: every peer in the same process, one after another, single-threaded.`, '');
  out.push('| | |', '|---|---|');
  out.push(`| machine | ${env.cpu}, ${env.cores} logical core(s) |`);
  out.push(`| load | 1-minute load average ${env.loadBefore.toFixed(2)} before the run, ${env.loadAfter.toFixed(2)} after (the run itself adds about 1); the run took ${env.seconds} s |`);
  out.push(`| runtime | Node ${env.node} (V8 ${env.v8}), ${env.platform} |`);
  out.push(`| peers | ${Object.entries(env.versions).map(([k, v]) => `${k} ${v}`).join(', ')} |`);
  out.push(`| harness | benchmark.js ${env.benchmarkjs}: ${env.profile.warmup} s of warm-up calls, then samples for at least ${env.profile.maxTime} s (at least ${env.profile.minSamples}) per figure; the figure is from the median time per op, ± is benchmark.js's relative margin of error of the mean |`);
  out.push('');
  out.push('## Machine ceiling (measured by the runner)', '');
  out.push('| what | figure |', '|---|---|');
  out.push(`| f32x4 multiply-then-add peak (12 independent chains, no FMA: relaxed SIMD is off) | ${fmt(ceiling.f32GFLOPS)} GFLOPS |`);
  out.push(`| f64x2 multiply-then-add peak | ${fmt(ceiling.f64GFLOPS)} GFLOPS |`);
  out.push(`| v128 copy, 64 MiB → 64 MiB (read + written bytes) | ${fmt(ceiling.copyDramGBs)} GB/s |`);
  out.push(`| v128 read, 64 MiB | ${fmt(ceiling.readDramGBs)} GB/s |`);
  out.push(`| v128 copy, 4 MiB → 4 MiB (cache-resident, like the 1M-element cases) | ${fmt(ceiling.copyCacheGBs)} GB/s |`);
  out.push(`| v128 read, 4 MiB | ${fmt(ceiling.readCacheGBs)} GB/s |`);
  out.push('');
  out.push('## Figures', '');
  out.push('Each cell: the figure ± margin of error, (its fraction of the machine ceiling where one applies),',
    'and for a peer **wg ×r**: wasmgrad\'s speed-up over that peer (the peer\'s time ÷ wasmgrad\'s time;',
    'above 1 wasmgrad is faster). GFLOPS = 2N³/t for matmul; GB/s counts 16 bytes per element for',
    'y = a·b + c, 4 for sum and 8 for softmax. Matmul fractions are of the f32x4 (or f64x2) peak;',
    'memory-bound fractions are of the cache-resident copy (read for sum) bandwidth.', '');
  const groups = [...new Set(rows.map((r) => r.group))];
  for (const g of groups) {
    const gr = rows.filter((r) => r.group === g);
    out.push(`### ${g}`, '');
    out.push(`| case | unit | ${COLUMNS.join(' | ')} |`);
    out.push(`|---|---|${COLUMNS.map(() => '---').join('|')}|`);
    for (const row of gr) out.push(`| ${row.label} | ${row.unit} | ${COLUMNS.map((p) => cell(row, p).replace(/\|/g, '\\|')).join(' | ')} |`);
    const notes = gr.flatMap((r) => [r.note, r.guard].filter(Boolean).map((n) => `${r.label}: ${n}`));
    if (notes.length) out.push('', ...notes.map((n) => `- ${n}`));
    out.push('');
  }
  out.push('## How each peer runs', '');
  out.push(...results.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}
