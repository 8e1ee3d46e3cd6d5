#!/usr/bin/env bash
# npm test: every gate in order; the first failing gate stops the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
mkdir -p test-artifacts
gate() { echo; echo "=== gate $1: $2"; }

bash scripts/ensure-system-deps.sh

gate 1 "type-check and lint"
node scripts/build-assets.js
npx tsc --noEmit -p tsconfig.json
npx eslint .

gate 2 "jest: unit, assertion and handler integration tests (moto_server)"
npx jest --ci --json --outputFile=test-artifacts/jest-results.json
jest_summary=$(node -e "const r=require('./test-artifacts/jest-results.json');console.log(r.numPassedTests+' passed, '+r.numFailedTests+' failed')")

gate 3 "synth of the example app"
rm -rf cdk.out
npx cdk synth --quiet

gate 4 "cfn-lint on every synthesized template"
cfn-lint cdk.out/*.template.json
echo "cfn-lint: $(ls cdk.out/*.template.json | wc -l) templates, no errors or warnings"

gate 5 "cdk-nag and the AWS Control Tower proactive controls"
node scripts/check-policies.js

gate 6 "jsii compile of lib/ and API.md"
npm run --silent jsii
echo "jsii: compiled with no errors or warnings"
npx jsii-docgen -o test-artifacts/API.md
if ! cmp -s API.md test-artifacts/API.md; then
  diff -u API.md test-artifacts/API.md | head -40 >&2 || true
  echo "API.md is stale: run \`npm run jsii && npm run docgen\` and commit it" >&2
  exit 1
fi
echo "API.md: current with the jsii assembly"

gate 7 "determinism"
bash scripts/check-determinism.sh

gate 8 "the packed tarball in a separate consumer app, with the README's code blocks"
node scripts/check-consumer.js --prebuilt

echo
echo "all 8 gates passed on Node.js $(node --version)"
echo "tests: $jest_summary"
