#!/usr/bin/env bash
# The settings every podman/buildah call of maas uses (build scripts and the image test).
#
#   source scripts/container/podman-env.sh              # in a shell or script: exports them
#   scripts/container/podman-env.sh podman images       # or run one command with them
#
# CONTAINERS_CONF:          scripts/container/containers.conf (runc, cgroupfs, no default ulimits)
# CONTAINERS_STORAGE_CONF:  scripts/container/storage.conf (vfs under /var/lib/containers/maas-vfs)
# Both can be overridden by setting MAAS_CONTAINERS_CONF / MAAS_STORAGE_CONF first.

maas_container_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export CONTAINERS_CONF="${MAAS_CONTAINERS_CONF:-$maas_container_dir/containers.conf}"
export CONTAINERS_STORAGE_CONF="${MAAS_STORAGE_CONF:-$maas_container_dir/storage.conf}"
# buildah reads the same files; BUILDAH_ISOLATION=chroot avoids needing a user namespace setup
# for RUN steps when buildah is used directly (podman build passes --isolation itself).
export BUILDAH_ISOLATION="${BUILDAH_ISOLATION:-chroot}"

# maas_require TOOL... : fail loudly, naming the Debian package, when a tool is missing.
maas_require() {
  local tool missing=()
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "error: missing ${missing[*]}: install with (as root, Debian/Ubuntu):" >&2
    echo "  apt-get update && apt-get install -y podman buildah runc debootstrap" >&2
    return 127
  fi
}

# maas_podman_check: podman answers with these settings (a clear message when it does not).
maas_podman_check() {
  maas_require podman runc || return $?
  local out
  if ! out=$(podman info --format '{{.Store.GraphDriverName}} {{.Host.OCIRuntime.Name}}' 2>&1); then
    echo "error: podman does not work with $CONTAINERS_CONF and $CONTAINERS_STORAGE_CONF:" >&2
    echo "$out" >&2
    echo "hint: run as root (or with user namespaces set up); in a Docker container podman needs --privileged" >&2
    return 1
  fi
}

# Executed rather than sourced: run the given command with these settings.
if [ "${BASH_SOURCE[0]}" = "$0" ] && [ "$#" -gt 0 ]; then
  exec "$@"
fi
