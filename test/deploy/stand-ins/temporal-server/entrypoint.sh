#!/bin/sh
# STAND-IN entrypoint (test-only). Like the official image: bound to every interface (BIND_ON_IP=0.0.0.0), the
# server must tell its peers a reachable address, so it broadcasts the container's own IP.
set -eu
if [ "${BIND_ON_IP:-}" = 0.0.0.0 ] && [ -z "${TEMPORAL_BROADCAST_ADDRESS:-}" ]; then
  TEMPORAL_BROADCAST_ADDRESS=$(hostname -i | awk '{ print $1 }')
  export TEMPORAL_BROADCAST_ADDRESS
fi
exec temporal-server --root /etc/temporal --config config --env docker start
