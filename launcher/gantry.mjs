// The one launcher of every Gantry action (`runs.using: node24`): finds the release binary of
// this action's version for the runner's platform — in the runner's tool cache, else downloaded
// from the release — checks its SHA-256 against checksums.json (committed with this file), and
// runs `gantry <subcommand>` on the runner itself with the runner's environment and stdio.
// Plain ESM, no dependencies: what is committed is what runs.
//
// Fails closed: an unknown platform, version or checksum, or a binary that does not match, and
// nothing runs. What runs is the bytes that were hashed: a private copy written after the check,
// never the cache path (which another process could swap in between); nothing at the cache path
// but a regular file is read, and no symbolic link is followed there. The one way to run
// another binary is GANTRY_BINARY, an environment variable the workflow itself sets, honoured
// only for an action run from the workflow's own checkout
// (Gantry's own CI runs `uses: ./actions/<name>` with the binary it just built); no action input
// can name a file to run.

import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, parse, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The release targets, by the runner's `RUNNER_OS` and `RUNNER_ARCH`. */
export const TARGETS = {
  "Linux X64": "x86_64-unknown-linux-musl",
  "Linux ARM64": "aarch64-unknown-linux-musl",
  "macOS X64": "x86_64-apple-darwin",
  "macOS ARM64": "aarch64-apple-darwin",
  "Windows X64": "x86_64-pc-windows-msvc",
};

class LaunchError extends Error {}

/** The target of this runner, or a LaunchError naming the pair. */
export function targetOf(env) {
  const pair = `${env.RUNNER_OS ?? process.platform} ${env.RUNNER_ARCH ?? process.arch}`;
  const target = TARGETS[pair];
  if (!target) {
    throw new LaunchError(
      `no gantry build for RUNNER_OS/RUNNER_ARCH "${pair}" (builds exist for: ${Object.keys(TARGETS).join(", ")})`,
    );
  }
  return target;
}

function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

/** One file out of a tar archive (ustar or GNU; regular files only). */
export function untar(tar, wanted) {
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((byte) => byte === 0)) break;
    const text = (from, length) => header.subarray(from, from + length).toString("latin1").replace(/\0.*$/s, "");
    const prefix = text(345, 155);
    const name = (prefix ? `${prefix}/` : "") + text(0, 100);
    const size = parseInt(text(124, 12).trim() || "0", 8);
    const type = text(156, 1);
    const start = at + 512;
    if (!Number.isFinite(size) || size < 0 || start + size > tar.length) {
      throw new LaunchError("the archive is cut short or not a tar archive");
    }
    if ((type === "0" || type === "") && name.replace(/^\.\//, "").split("/").pop() === wanted) {
      return tar.subarray(start, start + size);
    }
    at = start + Math.ceil(size / 512) * 512;
  }
  throw new LaunchError(`the archive holds no ${wanted}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `url` without the `user:password@` a mirror's address may carry, the Basic authorization
 * header that carries it instead (fetch refuses such a URL), and the address as it may be shown.
 */
export function credentialsOf(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return { url, shown: url.replace(/\/\/[^/?#]*@/, "//***@"), headers: {} };
  }
  if (!parsed.username && !parsed.password) return { url, shown: url, headers: {} };
  const pair = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  parsed.username = "";
  parsed.password = "";
  const bare = parsed.href;
  return {
    url: bare,
    shown: bare.replace("//", "//***@"),
    headers: { authorization: `Basic ${Buffer.from(pair).toString("base64")}` },
  };
}

/** The body of `url`, retried on 5xx, network errors and timeouts. */
async function download(address, { attempts = 3, timeoutMs = 30_000, log }) {
  const { url: bare, shown: url, headers } = credentialsOf(address);
  let last = "";
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    try {
      const response = await fetch(bare, { signal: AbortSignal.timeout(timeoutMs), redirect: "follow", headers });
      if (response.ok) return Buffer.from(await response.arrayBuffer());
      last = `HTTP ${response.status}`;
      if (response.status < 500) break;
    } catch (error) {
      last = error?.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : String(error?.cause ?? error);
    }
    if (attempt < attempts) {
      log(`download of ${url} failed (${last}); retrying`);
      await sleep(500 * 2 ** (attempt - 1));
    }
  }
  throw new LaunchError(`cannot download ${url}: ${last}`);
}

/**
 * Sends the download through the runner's proxy (`HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`, which a
 * self-hosted runner configured with a proxy passes to its jobs): Node's fetch ignores them
 * unless told. Loaded only to download.
 */
async function useProxyOf(env, log) {
  const names = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"];
  if (!names.some((name) => env[name])) return;
  const http = await import("node:http");
  if (typeof http.setGlobalProxyFromEnv === "function") {
    http.setGlobalProxyFromEnv(env);
  } else {
    log(`this Node (${process.version}) cannot send fetch through HTTPS_PROXY; downloading directly`);
  }
}

// Flags that Windows lacks are 0 there (it has neither symbolic-link races nor FIFOs here).
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
const NON_BLOCKING = constants.O_NONBLOCK ?? 0;
/** A binary larger than this is not gantry (the release binaries are a few MB). */
const MAX_BINARY_BYTES = 512 * 1024 * 1024;

/** What a file system entry is, in words. */
function kindOf(stat) {
  if (stat.isSymbolicLink()) return "a symbolic link";
  if (stat.isDirectory()) return "a folder";
  if (stat.isFIFO()) return "a FIFO (named pipe)";
  if (stat.isSocket()) return "a socket";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  return "not a regular file";
}

/**
 * The bytes of the regular file at `path`, read through one descriptor that follows no
 * symbolic link and never waits on a FIFO; `undefined` when nothing is there. Anything else at
 * the path (a link, a folder, a FIFO) is a LaunchError: the cache holds the binary or nothing.
 */
function readRegular(path) {
  let stat;
  try {
    stat = lstatSync(path);
  } catch (error) {
    if (error.code === "ENOENT") return undefined;
    throw new LaunchError(`cannot read ${path}: ${error.message}`);
  }
  const refuse = (what) =>
    new LaunchError(`${path} is ${what}, not the gantry binary: refusing to run it (remove it and run the job again)`);
  if (!stat.isFile()) throw refuse(kindOf(stat));
  let descriptor;
  try {
    descriptor = openSync(path, constants.O_RDONLY | NO_FOLLOW | NON_BLOCKING);
  } catch (error) {
    throw error.code === "ELOOP" ? refuse("a symbolic link") : new LaunchError(`cannot read ${path}: ${error.message}`);
  }
  try {
    const opened = fstatSync(descriptor);
    if (!opened.isFile()) throw refuse(kindOf(opened));
    if (opened.size > MAX_BINARY_BYTES) throw refuse(`${opened.size} bytes`);
    // Every byte is overwritten by the reads below (a short read fails), so no zero fill.
    const bytes = Buffer.allocUnsafe(opened.size);
    for (let at = 0; at < bytes.length; ) {
      const read = readSync(descriptor, bytes, at, bytes.length - at, at);
      if (read === 0) throw new LaunchError(`${path} changed while it was read: refusing to run it`);
      at += read;
    }
    return bytes;
  } finally {
    closeSync(descriptor);
  }
}

/** Writes `bytes` to a new file at `path` (never through anything already there), mode 0700. */
function writeNew(path, bytes) {
  const descriptor = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NO_FOLLOW, 0o700);
  try {
    for (let at = 0; at < bytes.length; ) at += writeSync(descriptor, bytes, at, bytes.length - at);
  } finally {
    closeSync(descriptor);
  }
}

/**
 * The verified bytes as a file only this run wrote: a new folder of its own (`mkdtemp`, mode
 * 0700) in the runner's temp folder, and in it a file created exclusively. What runs is what was
 * hashed, whatever happens to the cache meanwhile. `remove` deletes it once gantry has ended.
 */
function privateCopy(bytes, env, executable) {
  const folder = mkdtempSync(join(env.RUNNER_TEMP || tmpdir(), "gantry-run-"));
  const path = join(folder, executable);
  writeNew(path, bytes);
  return { path, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

/**
 * A verified copy of the binary for `target` to run: the tool cache's bytes, else downloaded
 * into the cache; either way hashed, then written to a private file that is what runs.
 */
export async function binaryFor(env, target, { log = () => {} } = {}) {
  const checksums = JSON.parse(readFileSync(join(here, "checksums.json"), "utf8"));
  const version = checksums.version;
  const expected = checksums.targets?.[target];
  if (!version || !expected?.archive || !expected?.binary) {
    throw new LaunchError(
      `checksums.json has no checksum for gantry ${version ?? "(no version)"} on ${target}: refusing to run an unverified binary`,
    );
  }
  const executable = target.includes("windows") ? "gantry.exe" : "gantry";
  const cache = join(env.RUNNER_TOOL_CACHE || join(env.RUNNER_TEMP || here, "tool-cache"), "gantry", version, target);
  const cached = join(cache, executable);
  const present = readRegular(cached);
  if (present !== undefined) {
    const found = sha256(present);
    if (found !== expected.binary) {
      throw new LaunchError(
        `the cached ${cached} does not match checksums.json (sha256 ${found}, expected ${expected.binary}): refusing to run it`,
      );
    }
    return privateCopy(present, env, executable);
  }
  // The runner names the action's repository; a mirror is the `binary-url` input.
  let base = env["INPUT_BINARY-URL"];
  if (!base) {
    if (!env.GITHUB_ACTION_REPOSITORY) {
      throw new LaunchError("neither GITHUB_ACTION_REPOSITORY nor the binary-url input says where gantry's release is");
    }
    base = `${env.GITHUB_SERVER_URL || "https://github.com"}/${env.GITHUB_ACTION_REPOSITORY}/releases/download/v${version}`;
  }
  base = base.replace(/\/+$/, "");
  const address = `${base}/gantry-${version}-${target}.tar.gz`;
  const url = credentialsOf(address).shown;
  await useProxyOf(env, log);
  const archive = await download(address, {
    timeoutMs: Number(env.GANTRY_DOWNLOAD_TIMEOUT_MS) || 30_000,
    log,
  });
  const found = sha256(archive);
  if (found !== expected.archive) {
    throw new LaunchError(`${url} does not match checksums.json (sha256 ${found}, expected ${expected.archive}): refusing to run it`);
  }
  // Loaded only to unpack a download: a cached start does not pay for it.
  const { gunzipSync } = await import("node:zlib");
  let binary;
  try {
    binary = untar(gunzipSync(archive), executable);
  } catch (error) {
    throw error instanceof LaunchError ? error : new LaunchError(`${url}: ${error.message}`);
  }
  if (sha256(binary) !== expected.binary) {
    throw new LaunchError(`${executable} in ${url} does not match checksums.json: refusing to run it`);
  }
  mkdirSync(cache, { recursive: true });
  // An unpredictable name, created exclusively: nothing planted in the cache is written through.
  const partial = `${cached}.partial-${randomBytes(12).toString("hex")}`;
  try {
    writeNew(partial, binary);
    renameSync(partial, cached);
  } catch (error) {
    rmSync(partial, { force: true });
    log(`could not keep gantry in the tool cache (${error.message}); running it all the same`);
  }
  return privateCopy(binary, env, executable);
}

/** Runs `gantry <subcommand>` with the runner's environment and stdio; resolves to its exit code. */
export function runGantry(binary, subcommand, env) {
  return new Promise((resolve) => {
    const child = spawn(binary, [subcommand], { env, stdio: "inherit" });
    // A cancelled job sends SIGINT, then SIGTERM: gantry must see them (it cleans up, rolls back).
    const forward = (signal) => () => child.kill(signal);
    const handlers = { SIGINT: forward("SIGINT"), SIGTERM: forward("SIGTERM") };
    for (const [signal, handler] of Object.entries(handlers)) process.on(signal, handler);
    child.on("error", (error) => {
      process.stderr.write(`::error::cannot run ${binary}: ${error.message}\n`);
      resolve(3);
    });
    child.on("exit", (code, signal) => {
      for (const [name, handler] of Object.entries(handlers)) process.off(name, handler);
      resolve(code ?? 128 + ({ SIGINT: 2, SIGTERM: 15, SIGKILL: 9 }[signal] ?? 1));
    });
  });
}

/** The real path of `path` (Node runs the launcher from its real path), else `path`. */
function real(path) {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Whether `path` lies inside `folder`, symbolic links resolved. */
function inside(path, folder) {
  const within = relative(real(folder), real(path));
  return within !== "" && !within.startsWith("..") && !isAbsolute(within);
}

/**
 * Whether `folder` may vouch for the launcher inside it: not a file system root, and neither
 * a temp folder (the system's, the runner's) nor a folder that holds one — from there, any
 * action a job unpacked in a temp folder would pass for the workflow's own.
 */
function vouches(folder, env) {
  const workspace = real(folder);
  if (workspace === parse(workspace).root) return false;
  const temps = [tmpdir(), env.RUNNER_TEMP, "/tmp", "/var/tmp"].filter(Boolean).map(real);
  return !temps.some((temp) => temp === workspace || inside(temp, workspace));
}

/**
 * The binary GANTRY_BINARY names, honoured only when this launcher runs from the workflow's own
 * checkout (`uses: ./actions/<name>`): its folder lies inside GITHUB_WORKSPACE, not under the
 * runner's `_actions` folder (where `uses: owner/gantry@ref` checks actions out), and the
 * workspace is no file system root or temp folder (see `vouches`). That is Gantry's CI testing
 * the binary it just built; anywhere else only the verified release binary runs, whatever the
 * job's environment says.
 */
function workflowBinary(env) {
  const binary = env.GANTRY_BINARY;
  if (!binary) return undefined;
  const fetched = real(here).split(sep).includes("_actions");
  if (!env.GITHUB_WORKSPACE || fetched || !vouches(env.GITHUB_WORKSPACE, env) || !inside(here, env.GITHUB_WORKSPACE)) {
    throw new LaunchError(
      "GANTRY_BINARY is honoured only for an action run from the workflow's own checkout (uses: ./actions/<name>, inside a GITHUB_WORKSPACE that is no file system root or temp folder); this one runs the verified release binary or nothing",
    );
  }
  return binary;
}

/**
 * The action's whole run: exits with gantry's status, or 3 when no binary can run. `commands`,
 * when given, are the only subcommands `subcommand` may name (the root action's `command` input).
 */
export async function main(subcommand, env = process.env, { commands } = {}) {
  const log = (message) => process.stderr.write(`${message}\n`);
  try {
    subcommand = subcommand.trim();
    if (commands && !commands.includes(subcommand)) {
      throw new LaunchError(
        `the command input must name one of the actions (${commands.join(", ")}), not ${JSON.stringify(subcommand)}`,
      );
    }
    const binary = workflowBinary(env);
    if (binary) {
      log(`using GANTRY_BINARY=${binary} (set by the workflow, for an action from its own checkout)`);
      process.exitCode = await runGantry(binary, subcommand, env);
    } else {
      const copy = await binaryFor(env, targetOf(env), { log });
      try {
        process.exitCode = await runGantry(copy.path, subcommand, env);
      } finally {
        copy.remove();
      }
    }
  } catch (error) {
    if (!(error instanceof LaunchError)) throw error;
    process.stdout.write(`::error title=Gantry could not start::${error.message.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A")}\n`);
    process.exitCode = 3;
  }
}
