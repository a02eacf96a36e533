// Runs a WASI module under Node's WASI with stdin/stdout passed through and the given
// environment (as NAME=VALUE arguments after the module path).
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const [modulePath, ...pairs] = process.argv.slice(2);
const env = Object.fromEntries(pairs.map((pair) => pair.split(/=(.*)/s).slice(0, 2)));
const wasi = new WASI({ version: 'preview1', args: ['probe'], env, stdin: 0, stdout: 1, stderr: 2, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(modulePath));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
