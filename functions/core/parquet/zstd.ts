// zstd for Parquet pages: Node's own (zlib, Node ≥ 22.15 — the Lambda runtime, Node 24) or, on older Node,
// zstd compiled to WebAssembly. Level 1, as parquet-rs and DuckDB use by default: the lake's files are
// rewritten by compaction, so speed wins here.
import zlib from 'node:zlib';

export type Compress = (page: Uint8Array) => Uint8Array;

interface ZstdZlib {
  zstdCompressSync(buf: Uint8Array, options: { params: Record<number, number> }): Buffer;
  constants: { ZSTD_c_compressionLevel: number };
}

const LEVEL = 1;

function nativeZstd(): Compress | undefined {
  const z = zlib as unknown as Partial<ZstdZlib>;
  if (typeof z.zstdCompressSync !== 'function' || z.constants?.ZSTD_c_compressionLevel === undefined) return undefined;
  const compress = z.zstdCompressSync.bind(zlib);
  const options = { params: { [z.constants.ZSTD_c_compressionLevel]: LEVEL } };
  return (page) => compress(page, options);
}

export interface ZstdWasm {
  compress(buf: Uint8Array, level: number): Uint8Array;
  decompress(buf: Uint8Array): Uint8Array;
}

let wasmModule: Promise<ZstdWasm> | undefined;

/**
 * zstd in WebAssembly, initialised once per process: a second `init()` replaces the module's memory under
 * any caller still using it. Loaded only where Node has no zstd of its own (never in the Lambda).
 */
export function zstdWasm(): Promise<ZstdWasm> {
  wasmModule ??= import('@bokuweb/zstd-wasm').then(async (m) => {
    const wasm = m as unknown as ZstdWasm & { init(): Promise<void> };
    await wasm.init();
    return wasm;
  });
  return wasmModule;
}

async function wasmZstd(): Promise<Compress> {
  const wasm = await zstdWasm();
  return (page) => wasm.compress(page, LEVEL);
}

let loaded: Compress | undefined = nativeZstd();
let loading: Promise<Compress> | undefined;

/** The compressor, loading the WebAssembly fallback on first use where needed. */
export async function zstd(): Promise<Compress> {
  if (loaded) return loaded;
  loading ??= wasmZstd().then((c) => (loaded = c));
  return loading;
}

/** Which implementation compresses here (for the benchmark's header). */
export const zstdImplementation = (): string => (nativeZstd() ? 'node:zlib' : '@bokuweb/zstd-wasm');
