#!/usr/bin/env bash
# Builds the maas image (templates/Dockerfile) with podman on a machine without Docker or an
# image registry: the base is localhost/maas-base:20 (made first by build-base-image.sh when it
# is missing), the result is tagged localhost/maas:<package.json version> and localhost/maas:dev.
#
#   sudo scripts/container/build-image.sh
#   sudo scripts/container/podman-env.sh podman run --rm localhost/maas:dev --version
#
# Environment:
#   MAAS_IMAGE            repository to tag (default localhost/maas)
#   MAAS_BASE             base image (default localhost/maas-base:20; any Node 20 image with apt,
#                         e.g. node:20-bookworm-slim when a registry is reachable)
#   MAAS_BUILD_CA_FILE    PEM bundle npm inside the build trusts (default: npm's cafile setting,
#                         else NODE_EXTRA_CA_CERTS), for TLS-intercepting proxies; passed as a
#                         build secret, never stored in the image
#   MAAS_BUILD_NETWORK    network of the RUN steps (default host: the build reaches the npm
#                         registry and the Debian mirror exactly as this machine does)
#   MAAS_IMAGE_REVISION   value of the org.opencontainers.image.revision label (optional)
#   NO_CACHE=1            build without podman's layer cache
#   FORCE=1               build even when nothing changed (see below)
#   PRUNE=0               keep the untagged images earlier builds left (by default they are
#                         removed: vfs stores every layer as a full copy); the stages of the
#                         last build stay, tagged <MAAS_IMAGE>-build-cache:<stage>, as the cache
#
# Nothing changed since the last build (the same base image, Dockerfile, .dockerignore, the files
# the context lets through and their modes, the same labels): the build is skipped, as with vfs
# even a fully cached build takes minutes. The record is $MAAS_IMAGE_CACHE/<image>.inputs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=podman-env.sh
source "$here/podman-env.sh"

log() { printf '[build-image] %s\n' "$*" >&2; }
die() {
  printf '[build-image] error: %s\n' "$*" >&2
  exit 1
}

started=$SECONDS
maas_require podman runc || exit 127
maas_podman_check || exit 1

version="$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$repo/package.json" | head -n 1)"
[ -n "$version" ] || die "cannot read the version from $repo/package.json"
repository="${MAAS_IMAGE:-localhost/maas}"
base="${MAAS_BASE:-localhost/maas-base:20}"

if ! podman image exists "$base"; then
  case "$base" in
    localhost/maas-base:*)
      log "$base is missing: building it first"
      MAAS_BASE_IMAGE="$base" "$here/build-base-image.sh"
      ;;
    *) log "$base is not in local storage: podman pulls it" ;;
  esac
fi

# What the image is built from, as one digest: the build context is what .dockerignore's
# allow-list (its "!" lines) lets through.
inputs_digest() {
  local paths
  mapfile -t paths < <(sed -n 's/^!\(.*[^[:space:]]\)[[:space:]]*$/\1/p' "$repo/.dockerignore")
  [ "${#paths[@]}" -gt 0 ] || die "$repo/.dockerignore lists nothing to build from (no \"!path\" lines)"
  {
    printf 'base %s\nversion %s\nrevision %s\n' "$(podman image inspect --format '{{.Id}}' "$base")" "$version" "${MAAS_IMAGE_REVISION:-}"
    sha256sum "$repo/templates/Dockerfile" "$repo/.dockerignore" | cut -c1-64
    (cd "$repo" && find "${paths[@]}" -type f -not -path '*/node_modules/*' -not -name '*.log' -printf '%m %p\n' 2>/dev/null | LC_ALL=C sort)
    (cd "$repo" && find "${paths[@]}" -type f -not -path '*/node_modules/*' -not -name '*.log' -print0 2>/dev/null | LC_ALL=C sort -z | xargs -0 -r sha256sum)
  } | sha256sum | cut -c1-64
}
cache="${MAAS_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/maas-images}"
mkdir -p "$cache"
record="$cache/$(printf '%s' "$repository" | tr -c 'A-Za-z0-9._-' '_').inputs"
digest="$(inputs_digest)"
if [ "${FORCE:-0}" != 1 ] && [ "${NO_CACHE:-0}" != 1 ] && [ -s "$record" ] && podman image exists "$repository:$version"; then
  read -r old_digest old_id <"$record" || true
  current_id="$(podman image inspect --format '{{.Id}}' "$repository:$version")"
  if [ "$old_digest" = "$digest" ] && [ "$old_id" = "$current_id" ]; then
    podman tag "$repository:$version" "$repository:dev"
    log "$repository:$version is up to date with the sources (FORCE=1 builds anyway)"
    exit 0
  fi
fi

# The CA bundle npm trusts inside the build (a TLS-intercepting proxy's CA). Always given, empty
# when there is none, so that the Dockerfile's secret mount never depends on buildah's handling
# of a missing secret.
ca="${MAAS_BUILD_CA_FILE:-}"
if [ -z "$ca" ] && command -v npm >/dev/null 2>&1; then
  ca="$(npm config get cafile 2>/dev/null || true)"
  case "$ca" in null | undefined) ca="" ;; esac
fi
[ -n "$ca" ] || ca="${NODE_EXTRA_CA_CERTS:-}"
secret_dir="$(mktemp -d "${TMPDIR:-/var/tmp}/maas-build.XXXXXX")"
trap 'rm -rf "$secret_dir"' EXIT
if [ -n "$ca" ]; then
  [ -r "$ca" ] || die "the CA bundle $ca is not readable (MAAS_BUILD_CA_FILE)"
  cp "$ca" "$secret_dir/npm_ca.pem"
  log "npm inside the build trusts $ca as well"
else
  : >"$secret_dir/npm_ca.pem"
fi

# A localhost/ base exists only here: never ask a registry for it.
case "$base" in localhost/*) pull=never ;; *) pull=missing ;; esac
args=(
  build
  --file "$repo/templates/Dockerfile"
  --build-arg "BASE=$base"
  --build-arg "VERSION=$version"
  --secret "id=npm_ca,src=$secret_dir/npm_ca.pem"
  --network "${MAAS_BUILD_NETWORK:-host}"
  --pull="$pull"
  --layers
  --tag "$repository:$version"
  --tag "$repository:dev"
)
[ -z "${MAAS_IMAGE_REVISION:-}" ] || args+=(--label "org.opencontainers.image.revision=$MAAS_IMAGE_REVISION")
[ "${NO_CACHE:-0}" != 1 ] || args+=(--no-cache)

log "podman ${args[*]} $repo"
build_log="$secret_dir/build.log"
podman "${args[@]}" "$repo" 2>&1 | tee "$build_log"

# The layer cache of the next build: tag the last image of every named stage (deps, build), so
# that pruning keeps them; then remove the untagged images earlier builds left (with vfs every
# layer is a full copy: gigabytes per build). PRUNE=0 keeps those.
awk '
  /^\[[0-9]+\/[0-9]+\] STEP [0-9]+\/[0-9]+: / {
    split(substr($1, 2), a, "/"); stage = a[1]
    if ($0 ~ / [Aa][Ss] [A-Za-z0-9_.-]+$/) name[stage] = $NF
  }
  /^--> [0-9a-f]+$/ { id[stage] = $2 }
  END { for (s in id) if (s in name) print name[s], id[s] }
' "$build_log" | while read -r stage id; do
  podman tag "$id" "$repository-build-cache:$stage"
done
if [ "${PRUNE:-1}" != 0 ]; then
  podman image prune -f >/dev/null
fi

printf '%s %s\n' "$digest" "$(podman image inspect --format '{{.Id}}' "$repository:$version")" >"$record"
size="$(podman image inspect --format '{{.Size}}' "$repository:$version")"
user="$(podman image inspect --format '{{.Config.User}}' "$repository:$version")"
log "built $repository:$version and $repository:dev: $((size / 1024 / 1024)) MiB, user $user ($((SECONDS - started)) s)"
