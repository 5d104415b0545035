// The layer rules, checked by test/layers.test.ts (npm test): dependencies run one way.
//   assembly/core   the tensor table, allocator, math, the vocabulary and the ABI: imports nothing above it
//   assembly/engine tape, forward mode, capture/replay: reaches the op families only through the
//                   generated tables (engine/rules.generated.ts, engine/kernels.generated.ts)
//   assembly/ops    one file per op family, kernels beside their rules: may use engine and core
// On the host, src/ shares only the vocabulary and the ABI with assembly/, and the op families
// (src/ops) know nothing of networks, optimizers, training, files or the MATLAB layer.
module.exports = {
  forbidden: [
    {
      name: 'core-is-the-bottom',
      comment: 'assembly/core must not import the engine or the op families',
      severity: 'error',
      from: { path: '^assembly/core/' },
      to: { path: '^assembly/(engine|ops)/' },
    },
    {
      name: 'engine-reaches-ops-through-generated-tables',
      comment: 'the engine calls the op families only through engine/*.generated.ts (from src/spec/ops.ts)',
      severity: 'error',
      from: { path: '^assembly/engine/', pathNot: '\\.generated\\.ts$' },
      to: { path: '^assembly/ops/' },
    },
    {
      name: 'nobody-imports-the-exports-file',
      comment: 'assembly/index.ts only chooses what crosses the boundary',
      severity: 'error',
      from: { path: '^(assembly|src)/' },
      to: { path: '^assembly/index\\.ts$' },
    },
    {
      name: 'host-shares-only-vocabulary-and-abi',
      comment: 'src/ imports from assembly/ only the op vocabulary and the ABI constants',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^assembly/', pathNot: '^assembly/core/(vocabulary|abi)\\.ts$' },
    },
    {
      name: 'op-families-below-nn',
      comment: 'src/ops is below networks, optimizers, training, io and the MATLAB layer',
      severity: 'error',
      from: { path: '^src/ops/' },
      to: { path: '^src/(nn|optim|train|io|matlab)/' },
    },
    {
      name: 'core-host-below-ops',
      comment: 'the host runtime (tensor, scope, runtime, errors, options, sizes) does not import op families or above',
      severity: 'error',
      from: { path: '^src/(tensor|scope|runtime|errors|options|sizes)\\.ts$' },
      to: { path: '^src/(ops|nn|optim|train|io|matlab)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '(^|/)node_modules/' },
  },
};
