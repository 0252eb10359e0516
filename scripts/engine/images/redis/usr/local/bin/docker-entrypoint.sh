#!/bin/sh
# Local stand-in for the official redis image's entrypoint: flags alone run the
# server with them; anything else runs as given.
set -eu
case "${1:-}" in
"" | -*) set -- redis-server "$@" ;;
esac
exec "$@"
