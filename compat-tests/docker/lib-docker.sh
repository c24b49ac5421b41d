# Helpers for compat-tests/docker/run.sh: a private, loopback-only Docker daemon and the base
# images docker/Dockerfile starts FROM, made locally (no registry is reachable from here).
#
#   docker_tools_install   docker.io (dockerd, containerd, runc), debootstrap, docker-compose
#   dockerd_start          starts a private dockerd (own socket, data root, exec root, pidfile)
#   dockerd_stop           stops it by PID (also called from the EXIT trap)
#   base_images            debian:bookworm-slim and rust:1.95-slim-bookworm, built once, cached
#
# Networking: the daemon runs with --bridge=none --iptables=false --ip6tables=false
# --ip-forward=false --ip-masq=false, so no docker0 (172.17.0.0/16) is ever made, no NAT rule
# and no forwarding sysctl is touched; every container and build uses the host's network
# namespace (network_mode: host, docker build --network host) with listeners on 127.0.0.1.
# docker_no_bridges checks that no docker0/br-*/veth interface exists.
#
# Sourced after ../lib.sh (uses WORK_DIR, apt_install, retry).

# Everything kept between runs (the daemon's data root with its images and build cache, the
# debootstrap tarballs) lives here; one test run at a time holds its lock.
DOCKER_TEST_DIR="${WEIR_DOCKER_TEST_DIR:-/var/lib/weir-docker-test}"
DOCKER_SOCK="$DOCKER_TEST_DIR/run/docker.sock"
DOCKERD_PID=""
RUST_IMAGE="rust:1.95-slim-bookworm"
DEBIAN_IMAGE="debian:bookworm-slim"
RUST_IMAGE_VERSION="1.95."
HOST_CA_BUNDLE="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
export DOCKER_HOST="unix://$DOCKER_SOCK"
# The classic builder (no buildx plugin is needed); docker/Dockerfile works with both.
export DOCKER_BUILDKIT="${DOCKER_BUILDKIT:-0}"
export COMPOSE_DOCKER_CLI_BUILD=0
# Never reach for a registry: keep the CLI from looking for credentials helpers and hints.
export DOCKER_CONFIG="$DOCKER_TEST_DIR/client-config"
export DOCKER_CLI_HINTS=false

dlog() { echo "[docker] $*"; }

docker_tools_install() {
    local need=()
    command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
    command -v docker >/dev/null 2>&1 || need+=(docker.io)
    command -v containerd >/dev/null 2>&1 || need+=(docker.io)
    command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
    compose_cmd >/dev/null 2>&1 || need+=(docker-compose)
    command -v kcat >/dev/null 2>&1 || need+=(kcat)
    [ ${#need[@]} -eq 0 ] && return 0
    # docker.io's postinst may try to start the system service; keep it from doing so.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
        local rc=0
        apt_install $(printf '%s\n' "${need[@]}" | sort -u) || rc=1
        rm -f /usr/sbin/policy-rc.d
        return $rc
    fi
    apt_install $(printf '%s\n' "${need[@]}" | sort -u)
}

# Prints the compose command: the `docker compose` plugin when the CLI has one, else
# docker-compose (Debian bookworm's 1.29 package).
compose_cmd() {
    if docker compose version >/dev/null 2>&1; then
        echo "docker compose"
    elif command -v docker-compose >/dev/null 2>&1; then
        echo "docker-compose"
    else
        return 1
    fi
}

# Prints the names of Docker-made network interfaces (none expected, ever).
docker_bridges() {
    ls /sys/class/net 2>/dev/null | grep -E '^(docker[0-9]*|br-[0-9a-f]+|veth[0-9a-f]+)$' || true
}

dockerd_start() {
    local bridges
    bridges="$(docker_bridges)"
    if [ -n "$bridges" ]; then
        echo "refusing to start dockerd: Docker interfaces exist already: $bridges" >&2
        return 1
    fi
    mkdir -p "$DOCKER_TEST_DIR/data" "$DOCKER_TEST_DIR/run" "$DOCKER_TEST_DIR/exec" "$DOCKER_CONFIG"
    # Our own (empty) daemon.json: nothing from /etc/docker/daemon.json (registry mirrors,
    # address pools, ...) applies to this daemon.
    echo '{}' >"$DOCKER_TEST_DIR/daemon.json"
    [ -f "$DOCKER_CONFIG/config.json" ] || echo '{}' >"$DOCKER_CONFIG/config.json"
    # A previous run killed hard may have left its pidfile; the daemon refuses to start then.
    if [ -f "$DOCKER_TEST_DIR/run/dockerd.pid" ]; then
        local old
        old="$(cat "$DOCKER_TEST_DIR/run/dockerd.pid" 2>/dev/null)"
        if [ -n "$old" ] && kill -0 "$old" 2>/dev/null && grep -q dockerd "/proc/$old/comm" 2>/dev/null; then
            echo "a test dockerd (pid $old) is still running on $DOCKER_SOCK" >&2
            return 1
        fi
        rm -f "$DOCKER_TEST_DIR/run/dockerd.pid"
    fi
    rm -f "$DOCKER_SOCK"
    dockerd \
        --config-file "$DOCKER_TEST_DIR/daemon.json" \
        --host "$DOCKER_HOST" \
        --data-root "$DOCKER_TEST_DIR/data" \
        --exec-root "$DOCKER_TEST_DIR/exec" \
        --pidfile "$DOCKER_TEST_DIR/run/dockerd.pid" \
        --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
        --userland-proxy=false \
        >>"$WORK_DIR/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    local deadline=$((SECONDS + 90))
    while [ $SECONDS -lt $deadline ]; do
        if docker version >/dev/null 2>&1; then
            dlog "dockerd pid $DOCKERD_PID on $DOCKER_HOST ($(docker version -f 'server {{.Server.Version}}, client {{.Client.Version}}' 2>/dev/null))"
            return 0
        fi
        kill -0 "$DOCKERD_PID" 2>/dev/null || break
        sleep 0.2
    done
    echo "dockerd did not come up; log:" >&2
    tail -40 "$WORK_DIR/dockerd.log" >&2
    dockerd_stop
    return 1
}

dockerd_stop() {
    [ -n "$DOCKERD_PID" ] || return 0
    if kill -0 "$DOCKERD_PID" 2>/dev/null; then
        kill -TERM "$DOCKERD_PID" 2>/dev/null
        local deadline=$((SECONDS + 40))
        while [ $SECONDS -lt $deadline ] && kill -0 "$DOCKERD_PID" 2>/dev/null; do sleep 0.2; done
        if kill -0 "$DOCKERD_PID" 2>/dev/null; then
            echo "dockerd did not stop in 40 s: SIGKILL" >&2
            kill -KILL "$DOCKERD_PID" 2>/dev/null
        fi
        wait "$DOCKERD_PID" 2>/dev/null
    fi
    DOCKERD_PID=""
    # The containerd dockerd started for itself stops with it; if dockerd was killed, stop it
    # by its pidfile.
    local cpid
    cpid="$(cat "$DOCKER_TEST_DIR/exec/containerd/containerd.pid" 2>/dev/null)"
    if [ -n "$cpid" ] && kill -0 "$cpid" 2>/dev/null && grep -q containerd "/proc/$cpid/comm" 2>/dev/null; then
        kill -TERM "$cpid" 2>/dev/null
        local i
        for i in $(seq 1 50); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$cpid" 2>/dev/null || true
    fi
    # dockerd leaves the host's network namespace bind-mounted at exec/netns/default.
    rootfs_unmount "$DOCKER_TEST_DIR/exec" || true
    return 0
}

# The Debian mirror this machine's apt uses (bookworm, not -security), for debootstrap.
debian_mirror() {
    local m
    m="$(grep -h -A3 -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '/^URIs:/{u=$2} /^Suites:.*\<bookworm\>/{if (u !~ /security/) {print u; exit}}')"
    [ -n "$m" ] || m="$(grep -h -E '^deb +(\[[^]]*\] +)?https?://[^ ]+ +bookworm +' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        sed -E 's/^deb +(\[[^]]*\] +)?//' | awk '{print $1; exit}')"
    echo "${m:-http://deb.debian.org/debian}"
}

# rootfs_tarball NAME [debootstrap --include list]: Debian bookworm minbase from the
# configured mirror, trimmed like the official slim image; cached as $DOCKER_TEST_DIR/base/NAME.tar.
rootfs_tarball() {
    local name=$1 include=${2:-} out="$DOCKER_TEST_DIR/base/$1.tar" mirror dir
    [ -s "$out" ] && { echo "$out"; return 0; }
    mirror="$(debian_mirror)"
    mkdir -p "$DOCKER_TEST_DIR/base/debs"
    dir="$(mktemp -d "$DOCKER_TEST_DIR/base/$name.XXXXXX")"
    dlog "debootstrap --variant=minbase bookworm from $mirror${include:+ (with $include)}" >&2
    local try ok=0
    for try in 1 2 3; do
        if debootstrap --variant=minbase ${include:+--include="$include"} \
            --cache-dir="$DOCKER_TEST_DIR/base/debs" bookworm "$dir" "$mirror" \
            >>"$DOCKER_TEST_DIR/base/debootstrap.log" 2>&1; then
            ok=1; break
        fi
        echo "debootstrap failed (try $try; log $DOCKER_TEST_DIR/base/debootstrap.log)" >&2
        rootfs_remove "$dir" || return 1
        dir="$(mktemp -d "$DOCKER_TEST_DIR/base/$name.XXXXXX")"
        sleep $((try * 3))
    done
    if [ $ok = 0 ]; then rootfs_remove "$dir"; return 1; fi
    # As the official slim images: apt's lists and caches, docs and man pages gone; the
    # host's resolv.conf and hostname not baked in.
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb \
        "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* \
        "$dir"/var/log/* "$dir"/etc/hostname "$dir"/tmp/*
    : >"$dir/etc/resolv.conf"
    echo "deb $mirror bookworm main" >"$dir/etc/apt/sources.list"
    if [ "$name" = rust-1.95-slim-bookworm ]; then
        install_rust_toolchain "$dir" || { rootfs_remove "$dir"; return 1; }
        # Cargo in the build reaches crates.io the way the host does: through the host's CA
        # bundle (a TLS-intercepting proxy's CA, if the machine has one, is in it).
        cp "$HOST_CA_BUNDLE" "$dir/etc/ssl/certs/ca-certificates.crt"
    fi
    rootfs_unmount "$dir" || return 1
    tar --numeric-owner --one-file-system -C "$dir" -cf "$out.tmp" . && mv "$out.tmp" "$out"
    rootfs_remove "$dir"
    [ -s "$out" ] && echo "$out"
}

# Unmounts whatever debootstrap left mounted under a rootfs (proc, sys, ...), deepest first.
rootfs_unmount() {
    local dir m
    dir="$(readlink -f "$1")"
    for m in $(awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
    if awk -v d="$dir/" 'index($2, d) == 1 {found=1} END {exit !found}' /proc/mounts; then
        echo "cannot unmount everything under $dir; left in place" >&2
        return 1
    fi
}

rootfs_remove() {
    rootfs_unmount "$1" && rm -rf --one-file-system "$1"
}

# The host's Rust 1.95 toolchain, laid out as the official rust image has it: rustup in
# /usr/local/cargo/bin with its proxies, the toolchain in /usr/local/rustup.
install_rust_toolchain() {
    local root=$1 rh="${RUSTUP_HOME:-$HOME/.rustup}" ch="${CARGO_HOME:-$HOME/.cargo}" tc="" t
    for t in "$rh/toolchains/1.95.0-x86_64-unknown-linux-gnu" "$rh/toolchains/stable-x86_64-unknown-linux-gnu" "$rh"/toolchains/1.95*-x86_64-unknown-linux-gnu; do
        if [ -x "$t/bin/rustc" ] && "$t/bin/rustc" --version 2>/dev/null | grep -q "^rustc $RUST_IMAGE_VERSION"; then
            tc="$(readlink -f "$t")"; break
        fi
    done
    [ -n "$tc" ] || { echo "no Rust 1.95 toolchain under $rh/toolchains (rustup toolchain install 1.95.0)" >&2; return 1; }
    [ -x "$ch/bin/rustup" ] || { echo "no rustup at $ch/bin/rustup" >&2; return 1; }
    dlog "Rust toolchain from $tc ($("$tc/bin/rustc" --version))" >&2
    local dst="$root/usr/local/rustup/toolchains/1.95.0-x86_64-unknown-linux-gnu"
    mkdir -p "$dst" "$root/usr/local/cargo/bin"
    # Without the HTML docs (rust-docs, ~800 MB) and the component manifests' doc entries.
    tar -C "$tc" --exclude=./share/doc -cf - . | tar -C "$dst" -xf -
    cp "$(readlink -f "$ch/bin/rustup")" "$root/usr/local/cargo/bin/rustup"
    local p
    for p in cargo rustc rustdoc cargo-clippy clippy-driver rustfmt cargo-fmt rust-gdb rust-gdbgui rust-lldb; do
        ln -sf rustup "$root/usr/local/cargo/bin/$p"
    done
    printf 'version = "12"\ndefault_toolchain = "1.95.0-x86_64-unknown-linux-gnu"\nprofile = "minimal"\nauto_self_update = "disable"\n' \
        >"$root/usr/local/rustup/settings.toml"
    chmod -R a+rwX "$root/usr/local/rustup" "$root/usr/local/cargo"
}

# base_images: imports the two base images unless this daemon has them already.
base_images() {
    local tarball
    # An image made with another CA bundle than the host's now is made again.
    if docker image inspect "$RUST_IMAGE" >/dev/null 2>&1 &&
        [ "$(docker run --rm --network none "$RUST_IMAGE" sha256sum /etc/ssl/certs/ca-certificates.crt | cut -d' ' -f1)" != \
            "$(sha256sum "$HOST_CA_BUNDLE" | cut -d' ' -f1)" ]; then
        dlog "$RUST_IMAGE has another CA bundle than the host: made again"
        docker rmi -f "$RUST_IMAGE" >/dev/null
        rm -f "$DOCKER_TEST_DIR/base/rust-1.95-slim-bookworm.tar"
    fi
    if ! docker image inspect "$DEBIAN_IMAGE" >/dev/null 2>&1; then
        tarball="$(rootfs_tarball debian-bookworm-slim)" || return 1
        docker import \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["bash"]' \
            "$tarball" "$DEBIAN_IMAGE" >/dev/null || return 1
        dlog "imported $DEBIAN_IMAGE from $tarball"
    fi
    if ! docker image inspect "$RUST_IMAGE" >/dev/null 2>&1; then
        tarball="$(rootfs_tarball rust-1.95-slim-bookworm gcc,libc6-dev,make,pkg-config,ca-certificates)" || return 1
        docker import \
            --change 'ENV RUSTUP_HOME=/usr/local/rustup' \
            --change 'ENV CARGO_HOME=/usr/local/cargo' \
            --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV RUST_VERSION=1.95.0' \
            --change 'CMD ["bash"]' \
            "$tarball" "$RUST_IMAGE" >/dev/null || return 1
        dlog "imported $RUST_IMAGE from $tarball"
    fi
    # The toolchain answers inside the image, with no network at all.
    docker run --rm --network none "$RUST_IMAGE" sh -c 'cargo --version && rustc --version && cc --version | head -1' ||
        { echo "$RUST_IMAGE does not run cargo" >&2; return 1; }
}
