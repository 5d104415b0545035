// The browser bundles' stand-in for read-file.ts: there is no file system to read from.

export const canReadFiles = false;

export async function readFile(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  throw new Error(`cannot read ${url.href}: this is the browser build of wasmgrad, which has no file access; ` +
    'pass the module, its bytes or an http(s) URL to init(source)');
}

export async function writeFile(path: URL | string, _bytes: Uint8Array): Promise<void> {
  throw new Error(`cannot write ${String(path)}: this is the browser build of wasmgrad, which has no file access; ` +
    'call io.save(net) without a path for the bytes');
}
