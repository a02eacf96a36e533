#!/usr/bin/env bash
# Regenerates the example plans with the real terraform: apply v1.tf, then plan v2.tf against
# that state and save `terraform show -json` of the plan. Uses only the built-in terraform_data
# resource, so nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")"
for stack in network app; do
  work=$(mktemp -d)
  cp "$stack/v1.tf" "$work/main.tf"
  (cd "$work" && terraform init -input=false -no-color >/dev/null && terraform apply -input=false -auto-approve -no-color >/dev/null)
  cp "$stack/v2.tf" "$work/main.tf"
  (cd "$work" && terraform plan -input=false -no-color -out=tfplan > plan.txt && terraform show -json tfplan > plan.json)
  cp "$work/plan.json" "$stack/plan.json"
  grep -E '^(Plan:|No changes)' "$work/plan.txt" > "$stack/plan-line.txt"
  rm -rf "$work"
done
