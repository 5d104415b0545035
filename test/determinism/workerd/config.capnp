# workerd config for the determinism suite: one worker that runs the program on an HTTP request.
# The test starts `workerd serve` on this file with the socket on 127.0.0.1 and an ephemeral port.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .determinism) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const determinism :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "program.js", esModule = embed "../program.js"),
    (name = "sha256.js", esModule = embed "../sha256.js"),
    # The package's edge entry (exports condition "workerd") and its module, precompiled by workerd.
    (name = "wasmgrad.js", esModule = embed "../../../dist/wasmgrad.browser.js"),
    (name = "wasmgrad.wasm", wasm = embed "../../../dist/wasmgrad.wasm"),
  ],
  compatibilityDate = "2025-01-01",
);
