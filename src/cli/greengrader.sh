#!/bin/sh
# The `greengrader` bin (package.json): Node with tsx's loader on src/cli/main.ts. Both are found from this
# file's real location, not the caller's directory, so the command works from anywhere (npm link, npm i -g).
# exec: Ctrl-C and SIGTERM reach Node itself, which stops what `up` started.
set -eu
cli_dir=$(dirname "$(readlink -f "$0")")
package_dir=$(dirname "$(dirname "$cli_dir")")
exec node --import "$package_dir/node_modules/tsx/dist/loader.mjs" "$cli_dir/main.ts" "$@"
