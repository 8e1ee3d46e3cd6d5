#!/usr/bin/env bash
# System tools the gates use that npm cannot install: checked here, installed from Debian where possible.
set -euo pipefail
missing=()
command -v moto_server >/dev/null || missing+=("moto_server (pip install 'moto[server]==5.2.1')")
command -v cfn-lint >/dev/null || missing+=("cfn-lint (pip install 'cfn-lint==1.51.0')")
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian chromium for the browser test..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    missing+=("chromium (apt-get install chromium)")
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "missing system tools: ${missing[*]}" >&2
  exit 1
fi
