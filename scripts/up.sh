#!/usr/bin/env bash
# The README's first command: installs what is missing (scripts/bootstrap.sh), then runs GreenGrader on this
# machine with embedded defaults (`greengrader up`). Services named in the environment are used, not started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
exec npx tsx src/cli/main.ts up
