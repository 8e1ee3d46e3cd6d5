#!/usr/bin/env bash
# Gate 7: two synths of the example app give byte-identical templates and assets.
set -euo pipefail
cd "$(dirname "$0")/.."
a=$(mktemp -d) b=$(mktemp -d)
# The feature flags the CLI would pass from cdk.json.
CDK_CONTEXT_JSON=$(node -e "process.stdout.write(JSON.stringify(require('./cdk.json').context))")
export CDK_CONTEXT_JSON
trap 'rm -rf "$a" "$b"' EXIT
CDK_OUTDIR="$a" node dist/bin/app.js >/dev/null
CDK_OUTDIR="$b" node dist/bin/app.js >/dev/null
count=$(find "$a" -name '*.template.json' | wc -l)
if [ "$count" -eq 0 ]; then echo "determinism gate: no templates were synthesized" >&2; exit 1; fi
if ! diff -r -q --exclude='manifest.json' --exclude='tree.json' --exclude='*.metadata.json' "$a" "$b"; then
  echo "determinism gate: two synths differ (see the files above): remove timestamps, random ids or unordered data from templates" >&2
  for f in $(cd "$a" && find . -name '*.template.json'); do cmp -s "$a/$f" "$b/$f" || diff <(python3 -m json.tool "$a/$f") <(python3 -m json.tool "$b/$f") | head -20; done
  exit 1
fi
# The esbuild bundles too: rebuilding them gives the same bytes.
digest() { (cd assets && find . -type f | sort | xargs sha256sum) | sha256sum; }
before=$(digest)
node scripts/build-assets.js --quiet
if [ "$(digest)" != "$before" ]; then
  echo "determinism gate: rebuilding the handler and web bundles changed their bytes" >&2
  exit 1
fi
echo "determinism gate: $count templates byte-identical across two synths; $(find assets -type f | wc -l) bundled files identical across two builds"
