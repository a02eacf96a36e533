#!/usr/bin/env bash
# Regenerates the drift examples (and the drift-report crate's test fixtures) with the real
# terraform and the real hashicorp/aws provider against moto on 127.0.0.1: apply the stack in
# tests/fixtures/drift-aws, plan -refresh-only (clean/), change things out of band with boto3
# (out_of_band.py), plan -refresh-only again (shop-aws/). Needs moto from the venv
# scripts/test.sh makes, and the provider in a local filesystem mirror (GANTRY_TF_PLUGIN_MIRROR,
# else found under /opt, /usr/local/share, /usr/share or ~/.terraform.d).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
venv="${GANTRY_LINT_VENV:-$root/target/lint-venv}"
mirror="${GANTRY_TF_PLUGIN_MIRROR:-}"
if [ -z "$mirror" ]; then
  found=$(find /opt /usr/local/share /usr/share "$HOME/.terraform.d" -maxdepth 4 -type d -path '*/registry.terraform.io/hashicorp/aws' 2>/dev/null | head -n 1)
  mirror="${found%/registry.terraform.io/hashicorp/aws}"
fi
[ -n "$mirror" ] || { echo "no filesystem mirror with hashicorp/aws; set GANTRY_TF_PLUGIN_MIRROR" >&2; exit 2; }
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
trap 'kill $moto; rm -rf "$work"' EXIT
sleep 2
cp "$root/tests/fixtures/drift-aws/main.tf" "$work/"
cat > "$work/cli.tfrc" <<CONFIG
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
}
CONFIG
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" TF_VAR_endpoint="http://127.0.0.1:$port" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
cd "$work"
terraform init -input=false -no-color >/dev/null
terraform apply -input=false -auto-approve -no-color >/dev/null
terraform plan -refresh-only -input=false -no-color -out=clean.tfplan >/dev/null || true
terraform show -json clean.tfplan > clean.json
"$venv/bin/python" "$root/tests/fixtures/drift-aws/out_of_band.py" "http://127.0.0.1:$port"
terraform plan -refresh-only -input=false -no-color -out=drifted.tfplan >/dev/null || true
terraform show -json drifted.tfplan > drifted.json
cd - >/dev/null
cp "$work/clean.json" clean/plan.json
cp "$work/drifted.json" shop-aws/plan.json
cp "$work/clean.json" "$root/crates/drift-report/tests/fixtures/aws-after-apply.json"
cp "$work/drifted.json" "$root/crates/drift-report/tests/fixtures/aws-drifted.json"
