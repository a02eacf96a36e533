"""The `helm` CLI subset helm-deploy runs, on Helm's own v4 library (PyPI helm-python-sdk).

There is no Linux helm binary to install here; this stands in for the one azure/setup-helm puts
on a runner. It takes the same arguments (`version --short`, `upgrade --install`, `template
--is-upgrade --no-hooks` (rendered client-only, as helm template does), `rollback`, `uninstall`,
`test --logs`, with --namespace, --kube-context, --version, --values, --set, --timeout, and
Helm 4's --force-conflicts),
prints what helm prints on success and exits 1 with helm's `Error: …` line on failure. Every call
is appended to $GANTRY_HELM_LOG (one JSON array of argv per line) when that is set.

Like Helm's own CLI (pkg/cmd/upgrade.go), SIGTERM or SIGINT during an install or upgrade prints
`Release NAME has been cancelled.` and cancels the operation's context: Helm marks the release
failed and the command fails with `context canceled`.
"""

import json
import os
import signal
import sys
import threading

import helm_python as helm
import helm_python.config as helm_config


def deep_merge(base, extra):
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = value
    return base


def seconds(text):
    text = text.strip()
    total, digits = 0, ""
    for char in text:
        if char.isdigit():
            digits += char
            continue
        total += int(digits) * {"s": 1, "m": 60, "h": 3600}[char]
        digits = ""
    return total + (int(digits) if digits else 0)


def cancellable(release, operation):
    """Runs `operation(context)` so that SIGTERM or SIGINT cancels it, as Helm's CLI does."""
    context = helm.HelmContext()
    outcome = {}

    def work():
        try:
            outcome["result"] = operation(context)
        except BaseException as error:  # handed to the main thread
            outcome["error"] = error

    def cancel(_signum, _frame):
        print(f"Release {release} has been cancelled.", flush=True)
        context.cancel()

    signal.signal(signal.SIGTERM, cancel)
    signal.signal(signal.SIGINT, cancel)
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.05)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def forcing(operation, force):
    """`operation` with Helm 4's --force-conflicts when `force`: the library takes it as an
    option of an upgrade or a rollback that the Python wrapper does not name."""
    if not force:
        return operation

    def forced(*args, **kwargs):
        plain = helm_config._opts
        helm_config._opts = lambda **given: plain(force_conflicts=True, **given)
        try:
            return operation(*args, **kwargs)
        finally:
            helm_config._opts = plain

    return forced


def main(argv):
    log = os.environ.get("GANTRY_HELM_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.write(json.dumps(argv) + "\n")
    if argv[:1] == ["version"]:
        print("v" + helm.helm_sdk_version().lstrip("v") + "+helm-python-sdk")
        return 0
    verb, positional, options, values_files, sets = argv[0], [], {}, [], []
    rest = argv[1:]
    index = 0
    while index < len(rest):
        word = rest[index]
        if word in ("--install", "--logs", "--is-upgrade", "--no-hooks", "--force-conflicts"):
            options[word.lstrip("-")] = True
        elif word in ("--namespace", "-n", "--kube-context", "--version", "--timeout"):
            options[word.lstrip("-")] = rest[index + 1]
            index += 1
        elif word in ("--values", "-f"):
            values_files.append(rest[index + 1])
            index += 1
        elif word == "--set":
            sets.append(rest[index + 1])
            index += 1
        elif word.startswith("-"):
            print(f"Error: unknown flag: {word}", file=sys.stderr)
            return 1
        else:
            positional.append(word)
        index += 1
    namespace = options.get("namespace", "default")
    timeout = seconds(options.get("timeout", "300s"))
    config = helm.Config(
        kubeconfig_path=os.environ.get("KUBECONFIG"),
        kube_context=options.get("kube-context"),
        namespace=namespace,
    )
    values = {}
    for path in values_files:
        with open(path, encoding="utf-8") as file:
            deep_merge(values, helm.values_from_yaml(file.read()))
    for expression in sets:
        deep_merge(values, helm.parse_set_string(expression))
    try:
        if verb == "template":
            release, chart = positional
            # helm template: an install, client-only, that prints the manifest (hooks left out
            # with --no-hooks; this stand-in never prints them).
            result = config.install(chart, release, values, namespace=namespace, dry_run="client",
                                    chart_version=options.get("version"))
            print(result.get("manifest", ""))
        elif verb == "upgrade":
            release, chart = positional
            try:
                history = config.history(release)
            except helm.HelmNotFoundError:
                history = []
            if history or options.get("install"):
                # helm's own words for each: upgrade.go and install.go.
                operation, failed, done = (
                    (forcing(config.upgrade, options.get("force-conflicts")), "UPGRADE FAILED",
                     f'Release "{release}" has been upgraded. Happy Helming!')
                    if history else
                    (config.install, "INSTALLATION FAILED", f'Release "{release}" does not exist. Installing it now.'))
                try:
                    result = cancellable(release, lambda context: operation(
                        chart, release, values, context=context, namespace=namespace,
                        timeout=timeout, chart_version=options.get("version")))
                except helm.HelmError as error:
                    print(f"Error: {failed}: {error}", file=sys.stderr)
                    return 1
                print(done)
            else:
                print(f'Error: UPGRADE FAILED: "{release}" has no deployed releases', file=sys.stderr)
                return 1
            version = result.get("version") if isinstance(result, dict) else None
            print(f"NAME: {release}\nNAMESPACE: {namespace}\nSTATUS: deployed\nREVISION: {version}")
        elif verb == "rollback":
            release, revision = positional
            forcing(config.rollback, options.get("force-conflicts"))(
                release, version=int(revision), timeout=timeout)
            print("Rollback was a success! Happy Helming!")
        elif verb == "test":
            (release,) = positional
            result = config.test(release, timeout=timeout, logs=True)
            print(f"NAME: {release}\nNAMESPACE: {namespace}\nPHASE: Succeeded")
            logs = result.get("logs") if isinstance(result, dict) else None
            if logs:
                print(logs)
        elif verb == "uninstall":
            (release,) = positional
            config.uninstall(release, timeout=timeout)
            print(f'release "{release}" uninstalled')
        else:
            print(f'Error: unknown command "{verb}" for "helm"', file=sys.stderr)
            return 1
    except helm.HelmError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
