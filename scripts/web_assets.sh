#!/usr/bin/env bash
# Fetch the web UI's JavaScript assets once from the npm registry and copy them into
# the package (src/steward/web/static/vendor), where they are committed so the UI works
# offline. Re-run only to upgrade a pinned version below.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=src/steward/web/static/vendor
PACKAGES=("htmx.org@2.0.4:dist/htmx.min.js" "vega@5.30.0:build/vega.min.js"
          "vega-lite@5.21.0:build/vega-lite.min.js" "vega-embed@6.26.0:build/vega-embed.min.js")
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$DEST"
for entry in "${PACKAGES[@]}"; do
  spec="${entry%%:*}"; file="${entry#*:}"
  name="${spec%@*}"
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
  tarball="$(ls "$work"/*.tgz)"
  tar -xzf "$tarball" -C "$work" "package/$file" "package/LICENSE" 2>/dev/null \
    || tar -xzf "$tarball" -C "$work" "package/$file"
  cp "$work/package/$file" "$DEST/$(basename "$file")"
  if [ -f "$work/package/LICENSE" ]; then cp "$work/package/LICENSE" "$DEST/LICENSE.$name"; fi
  echo "$spec $(sha256sum "$DEST/$(basename "$file")" | cut -d' ' -f1)" >> "$work/manifest"
  rm -rf "$work/package" "$tarball"
done
cp "$work/manifest" "$DEST/VERSIONS"
cat "$DEST/VERSIONS"
