#!/bin/sh
# Local stand-in for the official rabbitmq image's entrypoint, for Debian's
# rabbitmq-server 3.10: configuration from /etc/rabbitmq/conf.d and
# /etc/rabbitmq/enabled_plugins (the platform mounts both), data and the Erlang
# cookie in /var/lib/rabbitmq, logs to the console. The image's environment sets
# the same paths, so `rabbitmq-diagnostics` in a probe finds the node.
set -eu
case "${1:-}" in
"" | -*) set -- rabbitmq-server "$@" ;;
esac
[ "$1" = rabbitmq-server ] || exec "$@"
shift
exec /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
