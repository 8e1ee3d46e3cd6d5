#!/usr/bin/env bash
# Verifies the library on an older aws-cdk-lib: a copy of HEAD with that version installed builds,
# synthesizes every example with the nag packs, passes cfn-lint, and passes the jest suite
# (snapshots are rewritten in the copy: templates may differ between versions; assertions still run).
#   npm run test:floor -- 2.257.0        (default: the floor in package.json's peerDependencies)
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-$(node -p "require('./package.json').peerDependencies['aws-cdk-lib'].replace(/^[\^~>=]+/, '')")}
work=$(mktemp -d "${TMPDIR:-/tmp}/cdk-floor-$version-XXXX")
trap 'rm -rf "$work"' EXIT
git archive HEAD | tar -x -C "$work"
cd "$work"
# A full install with aws-cdk-lib pinned to that version (its own dependencies differ between releases).
node -e "const p=require('./package.json');p.devDependencies['aws-cdk-lib']=process.argv[1];require('fs').writeFileSync('package.json',JSON.stringify(p,null,2))" "$version"
rm -f package-lock.json
npm install --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null
installed=$(node -p "require('aws-cdk-lib/package.json').version")
[ "$installed" = "$version" ] || { echo "floor: installed aws-cdk-lib $installed, not $version" >&2; exit 1; }
echo "floor: aws-cdk-lib $installed"
node scripts/build-assets.js --quiet
npx tsc -p tsconfig.build.json
CDK_CONTEXT_JSON=$(node -e "process.stdout.write(JSON.stringify(require('./cdk.json').context))") CDK_OUTDIR=cdk.out node dist/bin/app.js
echo "floor: $(ls cdk.out/*.template.json | wc -l) example templates synthesized with the nag packs"
cfn-lint cdk.out/*.template.json
echo "floor: cfn-lint clean"
node scripts/check-policies.js
npx jest --ci=false -u --silent 2>&1 | tail -6
echo "floor: aws-cdk-lib $installed passes build, synth, cfn-lint, cdk-nag and jest"
