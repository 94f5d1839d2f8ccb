#!/usr/bin/env bash
# Builds the kernel-differential suite's VM: Debian's own kernel package (whatever
# linux-image-amd64 depends on, fetched with `apt-get download` and unpacked, never installed on
# this host) with its ip_vs modules, and an initramfs of busybox, Debian's ipvsadm (with its
# libraries) and guest/init. Everything goes to $VS_KERNEL_CACHE (default
# /var/cache/vsrouter-kernel); a rebuild happens only when an input changed.
#
# usage: tests/kernel/assets.sh        prints the cache directory on its last line
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VS_KERNEL_CACHE:-/var/cache/vsrouter-kernel}
# The 6.1 kernel's schedulers (twos arrived in a later kernel; the suite checks that list).
SCHEDS=(rr wrr lc wlc sed nq fo ovf lblc lblcr dh sh mh)
BOOT_MODULES=(virtio_pci virtio_net virtio_console ip_vs "${SCHEDS[@]/#/ip_vs_}" ipip)

die() { echo "tests/kernel/assets.sh: $*" >&2; exit 1; }
for tool in qemu-system-x86_64 busybox ipvsadm ethtool cpio depmod modprobe dpkg-deb apt-get; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/setup"
done
mkdir -p "$CACHE/deb"

kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
if [[ -z $kpkg ]]; then
  apt-get update -qq || true
  kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
fi
[[ -n $kpkg ]] || die "apt knows no linux-image-amd64: cannot fetch a kernel"
kver=${kpkg#linux-image-}
deb=$(ls "$CACHE"/deb/"$kpkg"_*.deb 2>/dev/null | head -1 || true)
if [[ -z $deb ]]; then
  echo "tests/kernel/assets.sh: downloading $kpkg" >&2
  (cd "$CACHE/deb" && apt-get download -q "$kpkg" >/dev/null 2>&1) || die "apt-get download $kpkg failed"
  deb=$(ls "$CACHE"/deb/"$kpkg"_*.deb | head -1)
fi
if [[ ! -f $CACHE/kroot/boot/vmlinuz-$kver ]]; then
  rm -rf "$CACHE/kroot"
  dpkg-deb -x "$deb" "$CACHE/kroot"
  depmod -b "$CACHE/kroot" "$kver"
fi

stamp=$( (echo "$kver ${BOOT_MODULES[*]}"; cat "$HERE/guest/init" "$0"; dpkg-query -W busybox-static ipvsadm ethtool iproute2) | sha256sum | cut -c1-16)
if [[ $(cat "$CACHE/initrd.stamp" 2>/dev/null || true) != "$stamp" || ! -f $CACHE/initrd.img ]]; then
  echo "tests/kernel/assets.sh: building the initramfs" >&2
  root="$CACHE/root"
  rm -rf "$root"
  mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,run,etc}
  cp "$(command -v busybox)" "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [[ $applet == busybox ]] || ln -s busybox "$root/bin/$applet"
  done
  # ipvsadm, ethtool, iproute2's ip (busybox's takes "up" for a keyword) and the libraries they need, at their own paths.
  for f in /usr/sbin/ipvsadm /usr/sbin/ethtool /usr/sbin/ip $( (ldd /usr/sbin/ipvsadm; ldd /usr/sbin/ethtool; ldd /usr/sbin/ip) | grep -o '/[^ ]*' | sort -u); do
    mkdir -p "$root$(dirname "$f")"
    cp -L "$f" "$root$f"
  done
  kmods="$CACHE/kroot/lib/modules/$kver"
  : >"$root/etc/modules.load"
  for m in "${BOOT_MODULES[@]}"; do
    # insmod lines in dependency order; every module this kernel has must be there.
    modprobe -d "$CACHE/kroot" -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" {print $2}' |
      while read -r path; do
        rel=${path#"$kmods/"}
        mkdir -p "$root/lib/modules/$(dirname "$rel")"
        [[ -f $root/lib/modules/$rel ]] || { cp "$path" "$root/lib/modules/$rel"; echo "$rel" >>"$root/etc/modules.load"; }
      done
    grep -q "/$m.ko" "$root/etc/modules.load" || grep -q "/${m//_/[-_]}.ko" "$root/etc/modules.load" ||
      die "kernel $kver has no module $m"
  done
  cp "$HERE/guest/init" "$root/init"
  chmod 755 "$root/init"
  (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --owner 0:0 --quiet | gzip -1) >"$CACHE/initrd.img.new"
  mv "$CACHE/initrd.img.new" "$CACHE/initrd.img"
  echo "$stamp" >"$CACHE/initrd.stamp"
fi
cp -f "$CACHE/kroot/boot/vmlinuz-$kver" "$CACHE/vmlinuz"
echo "$kver" >"$CACHE/kernel-version"
echo "$CACHE"
