# Sourced by scripts/test.sh and scripts/up.sh: installs node_modules with `npm ci` when they are
# missing or older than package-lock.json (so each command sets itself up on a fresh machine).
ensure_node_modules() {
  local lock_hash
  lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [[ ! -f node_modules/.platform-lock-hash || "$(cat node_modules/.platform-lock-hash)" != "$lock_hash" ]]; then
    npm ci --no-audit --no-fund
    echo "$lock_hash" > node_modules/.platform-lock-hash
  else
    echo "node_modules matches package-lock.json"
  fi
}
