// Runs a WASI module under Node's WASI with stdin/stdout passed through, no environment and no
// arguments beyond the program's name (the probe reads everything on stdin).
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const [modulePath] = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: ['probe'], env: {}, stdin: 0, stdout: 1, stderr: 2, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(modulePath));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
