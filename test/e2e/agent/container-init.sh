#!/bin/sh
# container-init.sh — the e2e node's container runtime, as one exec chain (the PID the agent spawned
# becomes the container's process, so SIGTERM and SIGKILL reach it directly).
#
#   container-init.sh ROOT HOSTNAME WORKDIR MOUNTS USERSPEC ROOTFS -- COMMAND [ARG...]
#
# It runs in a fresh mount and UTS namespace inside the pod's network namespace (the agent starts it
# under `ip netns exec <pod> unshare --uts`). It builds the container's file system on a tmpfs at ROOT:
# the host's /usr (read-only, with Debian's merged-/usr links), /etc as links to a read-only view of
# the host's, a minimal /dev, /proc, /sys, and empty /tmp, /var, /run, /root; then binds every line of MOUNTS
# ("source<TAB>destination<TAB>ro|rw": volumes, the pod's resolv.conf/hosts/hostname, the image's
# entry points, the repository) and execs COMMAND chrooted there, as USERSPEC (uid:gid, or "-"), with
# the root file system read-only when ROOTFS is "ro" (securityContext.readOnlyRootFilesystem).
# Nothing is mounted in the host's namespace: these mounts die with the container.
set -eu
_cairn_path=${PATH:-/usr/bin:/bin}
PATH=/usr/sbin:/usr/bin:/sbin:/bin
_cairn_root=$1 _cairn_host=$2 _cairn_wd=$3 _cairn_mounts=$4 _cairn_user=$5 _cairn_rootfs=$6
shift 6
[ "${1:-}" = "--" ] && shift

hostname "$_cairn_host"
mount -t tmpfs -o mode=0755,size=64m cairn-rootfs "$_cairn_root"
cd "$_cairn_root"
for d in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$d"; fi
done
mkdir usr dev proc sys tmp run var root home etc .host .host/etc
mount --rbind /usr usr && mount -o remount,bind,ro usr
# /dev is a tmpfs of its own, as runc builds it, so files bound there (the termination log) never land
# in the host's /dev.
mount -t tmpfs -o mode=0755,size=1m cairn-dev dev
for n in null zero full random urandom tty; do : >"dev/$n" && mount --bind "/dev/$n" "dev/$n"; done
mkdir dev/pts dev/shm && mount --bind /dev/pts dev/pts && mount -t tmpfs -o mode=1777,size=64m shm dev/shm
ln -s /proc/self/fd dev/fd && ln -s fd/0 dev/stdin && ln -s fd/1 dev/stdout && ln -s fd/2 dev/stderr
mount --rbind /proc proc
mount --rbind /sys sys
mount --rbind /etc .host/etc && mount -o remount,bind,ro .host/etc
(cd etc && ln -s ../.host/etc/* . && rm -f resolv.conf hosts hostname)
ln -s ../run var/run
mkdir var/tmp var/lib var/log
chmod 1777 tmp var/tmp

_cairn_tab=$(printf '\t')
while IFS=$_cairn_tab read -r _cairn_src _cairn_dst _cairn_mode; do
  [ -n "$_cairn_src" ] || continue
  _cairn_target=$_cairn_root$_cairn_dst
  if [ -d "$_cairn_src" ]; then
    mkdir -p "$_cairn_target"
  else
    mkdir -p "$(dirname "$_cairn_target")"
    [ -e "$_cairn_target" ] || : >"$_cairn_target"
  fi
  mount --bind "$_cairn_src" "$_cairn_target"
  if [ "$_cairn_mode" = ro ]; then mount -o remount,bind,ro "$_cairn_target"; fi
done <"$_cairn_mounts"
if [ "$_cairn_rootfs" = ro ]; then mount -o remount,ro "$_cairn_root"; fi

PATH=$_cairn_path
export PATH
if [ "$_cairn_user" = - ]; then
  exec /usr/sbin/chroot "$_cairn_root" /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$_cairn_wd" "$@"
fi
exec /usr/sbin/chroot --userspec="$_cairn_user" "$_cairn_root" /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$_cairn_wd" "$@"
