#!/usr/bin/env python3
"""Release chores of .github/workflows/release.yml, kept here so the tests run the same code.

  release.py check <version>
      <version> is X.Y.Z and the workspace's version in Cargo.toml.
  release.py package <version> <target> <binary> <dist>
      writes <dist>/gantry-<version>-<target>.tar.gz: the binary alone, as `gantry` (`gantry.exe`
      on Windows), mode 0755, owner 0:0, mtime 0 — the same bytes from the same binary, wherever
      it is packed.
  release.py checksums <version> <dist> <checksums.json> [--all-targets]
      reads every archive of <version> in <dist>, writes <dist>/SHA256SUMS and the launcher's
      checksums.json (archive and binary SHA-256 per target). --all-targets (the release) fails
      unless every target the launcher maps a runner to has its archive.
  release.py targets
      the release targets, one a line.

Every failure names the file and exits non-zero; nothing is written half-way.
"""

import gzip
import hashlib
import io
import json
import os
import re
import sys
import tarfile
import tomllib
from pathlib import Path

# The targets the launcher maps RUNNER_OS/RUNNER_ARCH to (launcher/gantry.mjs TARGETS; a test
# keeps the two and the release matrix equal).
TARGETS = [
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
]

ROOT = Path(__file__).resolve().parent.parent


class ReleaseError(Exception):
    pass


def executable(target):
    return "gantry.exe" if "windows" in target else "gantry"


def archive_name(version, target):
    return f"gantry-{version}-{target}.tar.gz"


def check(version):
    if not re.fullmatch(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)", version):
        raise ReleaseError(f"version {version!r} is not X.Y.Z")
    manifest = ROOT / "Cargo.toml"
    try:
        workspace = tomllib.loads(manifest.read_text())["workspace"]["package"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as error:
        raise ReleaseError(f"{manifest}: no [workspace.package] version ({error})") from error
    if workspace != version:
        raise ReleaseError(
            f"{manifest}: [workspace.package] version is {workspace}, not {version}: "
            "bump it on main first, so the binary says the version it is released as"
        )


def package(version, target, binary, dist):
    if target not in TARGETS:
        raise ReleaseError(f"{target} is not a release target ({', '.join(TARGETS)})")
    try:
        data = Path(binary).read_bytes()
    except OSError as error:
        raise ReleaseError(f"{binary}: {error.strerror}") from error
    info = tarfile.TarInfo(executable(target))
    info.size = len(data)
    info.mode = 0o755
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        archive.addfile(info, io.BytesIO(data))
    out = Path(dist) / archive_name(version, target)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_bytes(gzip.compress(tar.getvalue(), compresslevel=9, mtime=0))
    os.replace(partial, out)
    print(out)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def binary_of(path, target):
    """The executable inside an archive, which must hold it and nothing else."""
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            members = archive.getmembers()
            names = [member.name for member in members]
            if names != [executable(target)] or not members[0].isfile():
                raise ReleaseError(f"{path}: holds {names}, not the one file {executable(target)}")
            return archive.extractfile(members[0]).read()
    except (OSError, tarfile.TarError, EOFError) as error:
        raise ReleaseError(f"{path}: not a readable tar.gz ({error})") from error


def checksums(version, dist, out, all_targets):
    dist = Path(dist)
    prefix, suffix = f"gantry-{version}-", ".tar.gz"
    found = {}
    for path in sorted(dist.glob(f"{prefix}*{suffix}")):
        target = path.name[len(prefix) : -len(suffix)]
        if target not in TARGETS:
            raise ReleaseError(f"{path}: {target} is not a release target")
        archive = path.read_bytes()
        found[target] = {"archive": sha256(archive), "binary": sha256(binary_of(path, target))}
    if not found:
        raise ReleaseError(f"{dist}: no {prefix}<target>{suffix}")
    missing = [target for target in TARGETS if target not in found]
    if all_targets and missing:
        raise ReleaseError(f"{dist}: no archive for {', '.join(missing)}")
    sums = "".join(
        f"{found[target]['archive']}  {archive_name(version, target)}\n"
        for target in TARGETS
        if target in found
    )
    document = {"version": version, "targets": {target: found[target] for target in TARGETS if target in found}}
    for path, text in [(dist / "SHA256SUMS", sums), (Path(out), json.dumps(document, indent=2) + "\n")]:
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text)
        os.replace(partial, path)


def main(argv):
    try:
        match argv:
            case ["check", version]:
                check(version)
            case ["package", version, target, binary, dist]:
                package(version, target, binary, dist)
            case ["checksums", version, dist, out, *flags] if flags in ([], ["--all-targets"]):
                checksums(version, dist, out, flags == ["--all-targets"])
            case ["targets"]:
                print("\n".join(TARGETS))
            case _:
                print(__doc__, file=sys.stderr)
                return 2
    except ReleaseError as error:
        print(f"release.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
