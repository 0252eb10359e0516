#!/usr/bin/env bash
# Compares two offline renders (`npm run render -- --stack all --out <dir>`) and writes:
#   <out>/render.diff   the full unified diff (manifests and inventory.json of every stack),
#   <out>/comment.md    the pull request comment: the review section (cost delta, images, changed
#                       pictures; scripts/review.ts) when given, then per stack the inventory and
#                       manifest diffs, each cut to fit GitHub's 65,536-character comment limit.
# Usage: render-diff.sh <base-render-dir> <head-render-dir> <out-dir> <base-label> <head-label> [<review.md>]
# An empty or missing base directory (the base could not be rendered) diffs against nothing.
set -euo pipefail

base=$1 head=$2 out=$3 base_label=$4 head_label=$5 review=${6:-}
mkdir -p "$out" "$base" "$head"
: > "$out/render.diff"

# Longest diff shown per stack section; the comment stays well under 65,536 characters for three stacks.
budget=15000
marker='<!-- platform:render-diff -->'

stacks=$( (ls -1 "$base"; ls -1 "$head") 2>/dev/null | sort -u)

fence_for() { # a code fence longer than any backtick run in the text
  local fence='```'
  while grep -qF -- "$fence" "$1"; do fence="${fence}\`"; done
  printf '%s' "$fence"
}

section() { # <title> <diff-file>
  local title=$1 file=$2 size fence
  size=$(wc -c < "$file")
  [[ $size -eq 0 ]] && return 0
  fence=$(fence_for "$file")
  printf '<details><summary>%s</summary>\n\n%sdiff\n' "$title" "$fence"
  if [[ $size -gt $budget ]]; then
    head -c "$budget" "$file" | sed '$d'
    printf '\n%s\n\n_Cut at %d of %d characters: the full diff is in the `render-diff` artifact of this run._\n' "$fence" "$budget" "$size"
  else
    cat "$file"
    printf '%s\n' "$fence"
  fi
  printf '</details>\n\n'
}

tmp=$(mktemp -d)
changed=0
{
  printf '%s\n## Offline render diff\n\n' "$marker"
  printf 'Base `%s` → head `%s`. Rendered by `npm run render` under the mock harness: no credentials and no cloud state, so ids and generated values are stand-ins. The cloud preview (staging, production) comes from the `preview` workflow.\n\n' "$base_label" "$head_label"
  if [[ -z $(ls -A "$base" 2>/dev/null) ]]; then
    printf '> The base did not render; everything below is compared with nothing.\n\n'
  fi
  printf '| stack | inventory | manifest files changed |\n|---|---|---|\n'
  for s in $stacks; do
    diff -uN --label "base/$s/inventory.json" --label "head/$s/inventory.json" "$base/$s/inventory.json" "$head/$s/inventory.json" > "$tmp/$s.inventory.diff" || true
    diff -ruN "${base}/$s/manifests" "${head}/$s/manifests" 2>/dev/null | sed -e "s#${base}/#base/#g" -e "s#${head}/#head/#g" -e 's#^\(---\|+++\) \([^\t]*\)\t.*#\1 \2#' > "$tmp/$s.manifests.diff" || true
    files=$(grep -c '^diff -ruN ' "$tmp/$s.manifests.diff" || true)
    inv=$([[ -s $tmp/$s.inventory.diff ]] && echo changed || echo same)
    [[ $files -gt 0 || $inv == changed ]] && changed=1
    printf '| %s | %s | %s |\n' "$s" "$inv" "$files"
    cat "$tmp/$s.inventory.diff" "$tmp/$s.manifests.diff" >> "$out/render.diff"
  done
  printf '\n'
  if [[ -n $review && -s $review ]]; then
    cat "$review"
    printf '\n'
  fi
  if [[ $changed -eq 0 ]]; then
    printf 'No rendered changes in any stack.\n'
  else
    printf '## Manifest and inventory diffs\n\n'
    for s in $stacks; do
      [[ -s $tmp/$s.inventory.diff || -s $tmp/$s.manifests.diff ]] || continue
      printf '### %s\n\n' "$s"
      section "inventory.json" "$tmp/$s.inventory.diff"
      section "manifests" "$tmp/$s.manifests.diff"
    done
  fi
} > "$out/comment.md"
rm -rf "$tmp"
echo "render diff: $(wc -c < "$out/render.diff") bytes of diff, comment $(wc -c < "$out/comment.md") characters"
