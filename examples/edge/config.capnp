# workerd config of the edge example. Run from the repository root after `npm run build`:
#   npx workerd serve examples/edge/config.capnp --socket-addr http=127.0.0.1:8787
# (the test starts it on an ephemeral loopback port instead).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "saliency", worker = .saliency) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "saliency") ],
);

const saliency :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "model.js", esModule = embed "model.js"),
    (name = "weights.safetensors", data = embed "weights.safetensors"),
    # wasmgrad's edge bundle (the package's "workerd" export) and its module, which workerd
    # compiles ahead of time and the worker imports as a WebAssembly.Module.
    (name = "wasmgrad.js", esModule = embed "../../dist/wasmgrad.browser.js"),
    (name = "wasmgrad.wasm", wasm = embed "../../dist/wasmgrad.wasm"),
  ],
  compatibilityDate = "2025-01-01",
);
