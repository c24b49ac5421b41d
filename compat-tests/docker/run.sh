#!/usr/bin/env bash
# Docker: the real docker/Dockerfile, docker/compose.yaml and docker/compose-cluster.yaml,
# built and run unmodified on a private, loopback-only Docker daemon, with a stock Kafka
# client (kcat, librdkafka) on the host.
#
#   compat-tests/docker/run.sh          (as root, or through sudo; Linux)
#
# 1. docker/Dockerfile builds (base images made locally: see lib-docker.sh).
# 2. compose.yaml: kcat produces (acks=all) and consumes through the broker's port; the broker
#    runs as a non-root user; the healthcheck turns healthy; /metrics and the console answer
#    on the HTTP port; stop is graceful (exit 0); down -v removes the container and the volume.
# 3. compose-cluster.yaml: three brokers, a topic created with replication factor 3 by
#    default.replication.factor, records produced with acks=all and read back; the partition
#    leader's container killed (docker kill); the others elect a new leader and keep serving
#    (produce with acks=all, every record back); down -v.
# 4. No docker0, br-* or veth interface before, during or after.
#
# Networking: the daemon has no bridge (--bridge=none ...), containers and builds use the
# host's network (network_mode: host, docker build --network host), every port is a free
# 127.0.0.1 port given to the compose files through WEIR_PORT... variables. Nothing leaves
# loopback except the package registries (apt, crates.io) the first build needs.
#
# Base images, the daemon's data root (images, build cache) and the debootstrap tarballs are
# kept in /var/lib/weir-docker-test (WEIR_DOCKER_TEST_DIR) between runs; delete it to start
# cold. KEEP_WORK=1 keeps the work dir (dockerd and build logs).
if [ "$(id -u)" -ne 0 ]; then exec sudo -E bash "$0" "$@"; fi
export CLIENT_NAME=docker
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"
. "$HERE/lib-docker.sh"

T_START=$SECONDS
IMAGE="weir:latest"                 # the compose files' default WEIR_IMAGE
SINGLE="weir-docker-test-single"    # compose project names
CLUSTER="weir-docker-test-cluster"
SINGLE_UP=0
CLUSTER_UP=0
COMPOSE=()

elapsed() { echo "$((SECONDS - $1)) s"; }

compose_single() { "${COMPOSE[@]}" -p "$SINGLE" -f "$REPO_DIR/docker/compose.yaml" "$@"; }
compose_cluster() { "${COMPOSE[@]}" -p "$CLUSTER" -f "$REPO_DIR/docker/compose-cluster.yaml" "$@"; }

docker_cleanup() {
    if [ -n "$DOCKERD_PID" ]; then
        if [ "$FAILED" -gt 0 ]; then
            [ "$SINGLE_UP" = 1 ] && { echo "--- single-node logs ---"; compose_single logs --no-color --tail 40 2>&1; }
            [ "$CLUSTER_UP" = 1 ] && { echo "--- cluster logs ---"; compose_cluster logs --no-color --tail 40 2>&1; }
        fi
        [ "$SINGLE_UP" = 1 ] && compose_single down -v --timeout 10 >/dev/null 2>&1
        [ "$CLUSTER_UP" = 1 ] && compose_cluster down -v --timeout 10 >/dev/null 2>&1
        SINGLE_UP=0; CLUSTER_UP=0
    fi
    dockerd_stop
}
trap 'docker_cleanup; cleanup' EXIT

# Everything here is fatal for the scenarios that follow: report it as a failure and stop.
fatal() { fail "$1" "${2:-}"; finish; }

# wait_healthy CONTAINER SECONDS: polls the container's health status.
wait_healthy() {
    local c=$1 deadline=$((SECONDS + $2)) st
    while [ $SECONDS -lt $deadline ]; do
        st="$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$c" 2>/dev/null)"
        case "$st" in
            "running healthy") return 0 ;;
            running*) ;;
            *) echo "container $c is $st" >&2; return 1 ;;
        esac
        sleep 0.5
    done
    echo "container $c not healthy in $2 s: $st" >&2
    docker inspect -f '{{range .State.Health.Log}}{{.ExitCode}}: {{.Output}}{{end}}' "$c" 2>/dev/null | tail -5 >&2
    return 1
}

# distinct_ports N: N distinct free 127.0.0.1 ports, space-separated.
distinct_ports() {
    python3 - "$1" <<'EOF'
# Below the ephemeral range (so no outgoing connection takes one while a container is
# restarted), and above the 10000-29999 the suites beside this one draw from.
import random, socket, sys
socks = []
while len(socks) < int(sys.argv[1]):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", random.randrange(30000, 32768)))
    except OSError:
        s.close(); continue
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()
EOF
}

# records PREFIX FROM TO: one record a line.
records() { seq "$2" "$3" | sed "s/^/$1-/"; }

# produce BOOTSTRAP TOPIC < lines: kcat with acks=all and idempotence; bounded.
produce() {
    timeout 150 kcat -P -b "$1" -t "$2" -X acks=all -X enable.idempotence=true \
        -X message.timeout.ms=120000 -X linger.ms=5
}

# consume BOOTSTRAP TOPIC COUNT OUT: the first COUNT records from the beginning.
consume() {
    timeout 90 kcat -C -b "$1" -t "$2" -o beginning -c "$3" -q -f '%s\n' >"$4"
}

# same_records EXPECTED GOT: identical multisets (every record back, none twice).
same_records() {
    diff <(sort "$1") <(sort "$2") >"$WORK_DIR/diff.out" && return 0
    echo "$(grep -c '^<' "$WORK_DIR/diff.out") missing, $(grep -c '^>' "$WORK_DIR/diff.out") unexpected; first: $(head -3 "$WORK_DIR/diff.out" | tr '\n' ' ')"
    return 1
}

# metadata BOOTSTRAP TOPIC: "leader replicas isr" of partition 0 (ids comma-separated).
metadata() {
    timeout 20 kcat -L -J -b "$1" -t "$2" 2>/dev/null | python3 -c '
import json, sys
m = json.load(sys.stdin)
t = [t for t in m["topics"] if t["topic"] == sys.argv[1]][0]
p = [p for p in t["partitions"] if p["partition"] == 0][0]
ids = lambda k: ",".join(str(r["id"]) for r in sorted(p.get(k, []), key=lambda r: r["id"]))
print(p["leader"], ids("replicas") or "-", ids("isrs") or "-")
' "$2"
}

http_get() {
    python3 -c '
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    sys.stdout.write(r.read().decode("utf-8", "replace"))
' "$1"
}

# ---------------------------------------------------------------------------------------------
# 0. Tools, the lock, the daemon, the base images.
docker_tools_install || { echo "could not install docker.io/debootstrap/docker-compose/kcat"; exit 2; }
read -r -a COMPOSE <<<"$(compose_cmd)"
mkdir -p "$DOCKER_TEST_DIR"
exec 7>"$DOCKER_TEST_DIR/lock"
flock -w 1800 7 || { echo "another docker test holds $DOCKER_TEST_DIR/lock"; exit 2; }

bridges="$(docker_bridges)"
[ -z "$bridges" ] || fatal "no Docker network interface before the test" "found: $bridges (a system Docker daemon?)"
t=$SECONDS
dockerd_start || fatal "private dockerd starts" "log in $WORK_DIR/dockerd.log"
echo "compose: $("${COMPOSE[@]}" version 2>/dev/null | head -1)"
t=$SECONDS
base_images || fatal "base images $DEBIAN_IMAGE and $RUST_IMAGE made locally"
echo "base images ready ($(elapsed $t))"

# ---------------------------------------------------------------------------------------------
# 1. The image builds from docker/Dockerfile.
t=$SECONDS
if docker build --network host --force-rm -f "$REPO_DIR/docker/Dockerfile" -t "$IMAGE" "$REPO_DIR" >"$WORK_DIR/build.log" 2>&1; then
    size="$(docker image inspect -f '{{.Size}}' "$IMAGE")"
    pass "image builds from docker/Dockerfile in $(elapsed $t), $((size / 1000000)) MB ($IMAGE)"
    # Keep the builder stage's layers (the compiled dependencies) for the next run under a
    # tag (a cache hit, no work), and drop the previous builds' untagged layers, so the data
    # root does not grow run after run.
    docker build --network host -q --target builder -t weir-docker-test/builder-cache \
        -f "$REPO_DIR/docker/Dockerfile" "$REPO_DIR" >/dev/null 2>&1 &&
        docker image prune -f >/dev/null 2>&1
    echo "data root: $(du -sh "$DOCKER_TEST_DIR/data" 2>/dev/null | cut -f1)"
else
    tail -40 "$WORK_DIR/build.log"
    fatal "image builds from docker/Dockerfile" "after $(elapsed $t); build log above"
fi
cfg="$(docker image inspect -f 'user={{.Config.User}} volumes={{range $k, $v := .Config.Volumes}}{{$k}} {{end}}health={{if .Config.Healthcheck}}{{index .Config.Healthcheck.Test 0}}{{end}}' "$IMAGE")"
case "$cfg" in
    "user=10001:10001 volumes=/var/lib/weir health=CMD") pass "image: non-root user, data volume /var/lib/weir, HEALTHCHECK ($cfg)" ;;
    *) fail "image: non-root user, data volume /var/lib/weir, HEALTHCHECK" "$cfg" ;;
esac
docker run --rm --network none "$IMAGE" --version >"$WORK_DIR/version.out" 2>&1 &&
    pass "image runs weir: $(cat "$WORK_DIR/version.out")" ||
    fail "image runs weir --version" "$(cat "$WORK_DIR/version.out")"

# ---------------------------------------------------------------------------------------------
# 2. One node: docker/compose.yaml.
t=$SECONDS
read -r WEIR_PORT WEIR_HTTP_PORT <<<"$(distinct_ports 2)"
export WEIR_PORT WEIR_HTTP_PORT
B="127.0.0.1:$WEIR_PORT"
SINGLE_UP=1
compose_single up -d --no-build >"$WORK_DIR/up-single.log" 2>&1 ||
    { cat "$WORK_DIR/up-single.log"; fatal "compose.yaml up"; }
c="$(compose_single ps -q weir)"
[ -n "$c" ] || fatal "compose.yaml up" "no container for service weir"
if wait_healthy "$c" 120; then
    pass "compose.yaml: the healthcheck turns healthy ($(elapsed $t) after up)"
else
    fail "compose.yaml: the healthcheck turns healthy"
fi

pid="$(docker inspect -f '{{.State.Pid}}' "$c")"
host_uid="$(awk '/^Uid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)"
in_uid="$(docker exec "$c" id -u 2>&1)"
if [ -n "$host_uid" ] && [ "$host_uid" != 0 ] && [ "$in_uid" != 0 ] && grep -q weir "/proc/$pid/comm"; then
    pass "compose.yaml: weir runs as non-root (uid $in_uid in the container, $host_uid on the host)"
else
    fail "compose.yaml: weir runs as non-root" "host uid '$host_uid', container uid '$in_uid', comm $(cat "/proc/$pid/comm" 2>/dev/null)"
fi

records single 1 1000 >"$WORK_DIR/single.expected"
if produce "$B" docker-single <"$WORK_DIR/single.expected" 2>"$WORK_DIR/produce.err" &&
    consume "$B" docker-single 1000 "$WORK_DIR/single.got" 2>>"$WORK_DIR/produce.err" &&
    why="$(same_records "$WORK_DIR/single.expected" "$WORK_DIR/single.got")"; then
    pass "compose.yaml: kcat produces 1000 records (acks=all) and consumes them back on $B"
else
    fail "compose.yaml: kcat produce and consume on $B" "${why:-} $(tail -3 "$WORK_DIR/produce.err" | tr '\n' ' ')"
fi

metrics="$(http_get "http://127.0.0.1:$WEIR_HTTP_PORT/metrics" 2>&1)"
if grep -q '^weir_node_id' <<<"$metrics" && grep -q 'topic="docker-single"' <<<"$metrics"; then
    pass "compose.yaml: /metrics answers on 127.0.0.1:$WEIR_HTTP_PORT ($(grep -c '^weir_' <<<"$metrics") weir_ samples, topic docker-single in them)"
else
    fail "compose.yaml: /metrics on 127.0.0.1:$WEIR_HTTP_PORT" "$(head -c 300 <<<"$metrics")"
fi
console="$(http_get "http://127.0.0.1:$WEIR_HTTP_PORT/" 2>&1)"
if grep -qi '<html' <<<"$console"; then
    pass "compose.yaml: the web console answers on http://127.0.0.1:$WEIR_HTTP_PORT/"
else
    fail "compose.yaml: the web console on http://127.0.0.1:$WEIR_HTTP_PORT/" "$(head -c 200 <<<"$console")"
fi

# docker stop sends SIGTERM to weir (PID 1 in the container): a graceful exit is code 0.
compose_single stop --timeout 30 >/dev/null 2>&1
st="$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$c" 2>&1)"
[ "$st" = "exited 0" ] && pass "compose.yaml: stop is graceful (SIGTERM, exit 0)" ||
    fail "compose.yaml: stop is graceful" "state: $st"

vols_before="$(docker volume ls -q --filter "label=com.docker.compose.project=$SINGLE" | wc -l)"
compose_single down -v --timeout 30 >"$WORK_DIR/down-single.log" 2>&1
SINGLE_UP=0
left="$(docker ps -aq --filter "label=com.docker.compose.project=$SINGLE") $(docker volume ls -q --filter "label=com.docker.compose.project=$SINGLE")"
if [ "$vols_before" = 1 ] && [ -z "${left// /}" ]; then
    pass "compose.yaml: down -v removes the container and the data volume (single node: $(elapsed $t))"
else
    fail "compose.yaml: down -v removes the container and the data volume" "volumes before: $vols_before, left: $left"
fi

# ---------------------------------------------------------------------------------------------
# 3. Three brokers: docker/compose-cluster.yaml.
t=$SECONDS
read -r WEIR_PORT_1 WEIR_PORT_2 WEIR_PORT_3 WEIR_CONTROLLER_PORT_1 WEIR_CONTROLLER_PORT_2 WEIR_CONTROLLER_PORT_3 \
    WEIR_HTTP_PORT_1 WEIR_HTTP_PORT_2 WEIR_HTTP_PORT_3 <<<"$(distinct_ports 9)"
export WEIR_PORT_1 WEIR_PORT_2 WEIR_PORT_3 WEIR_CONTROLLER_PORT_1 WEIR_CONTROLLER_PORT_2 WEIR_CONTROLLER_PORT_3 \
    WEIR_HTTP_PORT_1 WEIR_HTTP_PORT_2 WEIR_HTTP_PORT_3
BC="127.0.0.1:$WEIR_PORT_1,127.0.0.1:$WEIR_PORT_2,127.0.0.1:$WEIR_PORT_3"
CLUSTER_UP=1
compose_cluster up -d --no-build >"$WORK_DIR/up-cluster.log" 2>&1 ||
    { cat "$WORK_DIR/up-cluster.log"; fatal "compose-cluster.yaml up"; }
declare -A CID
ok=1
for n in 1 2 3; do
    CID[$n]="$(compose_cluster ps -q "weir-$n")"
    [ -n "${CID[$n]}" ] && wait_healthy "${CID[$n]}" 120 || ok=0
done
[ $ok = 1 ] && pass "compose-cluster.yaml: three brokers up and healthy ($(elapsed $t) after up)" ||
    fatal "compose-cluster.yaml: three brokers up and healthy"

nets="$(docker network ls --format '{{.Name}}/{{.Driver}}' | sort | tr '\n' ' ')"
bridges="$(docker_bridges)"
if [ "$nets" = "host/host none/null " ] && [ -z "$bridges" ]; then
    pass "no Docker network but host and none, no bridge interface, with every container up"
else
    fail "no Docker network but host and none, no bridge interface" "networks: $nets interfaces: $bridges"
fi

for n in 1 2 3; do
    p_var="WEIR_HTTP_PORT_$n"
    http_get "http://127.0.0.1:${!p_var}/metrics" 2>/dev/null | grep -q "^weir_node_id $n\$" || ok=0
done
[ $ok = 1 ] && pass "compose-cluster.yaml: each broker's /metrics on its own HTTP port (weir_node_id 1, 2, 3)" ||
    fail "compose-cluster.yaml: each broker's /metrics on its own HTTP port"

# The topic is auto-created by the producer's Metadata request: replication factor 3 from
# default.replication.factor in the compose file.
records before 1 500 >"$WORK_DIR/cluster.expected"
if produce "$BC" docker-cluster <"$WORK_DIR/cluster.expected" 2>"$WORK_DIR/produce.err"; then
    pass "compose-cluster.yaml: kcat produces 500 records with acks=all"
else
    fail "compose-cluster.yaml: kcat produces 500 records with acks=all" "$(tail -3 "$WORK_DIR/produce.err" | tr '\n' ' ')"
fi
deadline=$((SECONDS + 30))
while :; do
    read -r leader replicas isr <<<"$(metadata "$BC" docker-cluster)"
    [ "${replicas:-}" = 1,2,3 ] && [ "${isr:-}" = 1,2,3 ] && break
    [ $SECONDS -ge $deadline ] && break
    sleep 0.5
done
[ "${replicas:-}" = 1,2,3 ] && [ "${isr:-}" = 1,2,3 ] &&
    pass "compose-cluster.yaml: topic docker-cluster has replicas 1,2,3, ISR 1,2,3 (leader $leader)" ||
    fail "compose-cluster.yaml: topic with replication factor 3" "leader ${leader:-?} replicas ${replicas:-?} isr ${isr:-?}"
if consume "$BC" docker-cluster 500 "$WORK_DIR/cluster.got" 2>"$WORK_DIR/consume.err" &&
    why="$(same_records "$WORK_DIR/cluster.expected" "$WORK_DIR/cluster.got")"; then
    pass "compose-cluster.yaml: kcat consumes every record back (500)"
else
    fail "compose-cluster.yaml: kcat consumes every record back" "${why:-} $(tail -3 "$WORK_DIR/consume.err" | tr '\n' ' ')"
fi

# Kill the partition's leader: the two others must elect a new one (from the ISR) and keep
# taking acks=all writes (min.insync.replicas=2).
victim="${leader:-1}"
case "$victim" in 1|2|3) ;; *) victim=1 ;; esac
tk=$SECONDS
docker kill "${CID[$victim]}" >/dev/null
st="$(docker inspect -f '{{.State.Running}}' "${CID[$victim]}")"
[ "$st" = false ] && pass "docker kill weir-$victim (the leader of docker-cluster/0)" ||
    fail "docker kill weir-$victim" "still running: $st"
survivors=""
for n in 1 2 3; do [ "$n" = "$victim" ] || survivors="$survivors${survivors:+,}127.0.0.1:$(eval echo "\$WEIR_PORT_$n")"; done
deadline=$((SECONDS + 60))
while :; do
    read -r leader replicas isr <<<"$(metadata "$survivors" docker-cluster)"
    [ -n "${leader:-}" ] && [ "$leader" -ge 1 ] 2>/dev/null && [ "$leader" != "$victim" ] && break
    [ $SECONDS -ge $deadline ] && break
    sleep 0.5
done
[ -n "${leader:-}" ] && [ "$leader" -ge 1 ] 2>/dev/null && [ "$leader" != "$victim" ] &&
    pass "compose-cluster.yaml: new leader $leader for docker-cluster/0 $(elapsed $tk) after the kill (ISR $isr)" ||
    fail "compose-cluster.yaml: a new leader after the kill" "leader ${leader:-?} isr ${isr:-?}"

records after 1 500 >"$WORK_DIR/cluster.after"
cat "$WORK_DIR/cluster.expected" "$WORK_DIR/cluster.after" >"$WORK_DIR/cluster.all"
if produce "$BC" docker-cluster <"$WORK_DIR/cluster.after" 2>"$WORK_DIR/produce.err"; then
    pass "compose-cluster.yaml: with weir-$victim down, kcat produces 500 more with acks=all ($(elapsed $tk) after the kill)"
else
    fail "compose-cluster.yaml: with weir-$victim down, produce with acks=all" "$(tail -3 "$WORK_DIR/produce.err" | tr '\n' ' ')"
fi
if consume "$BC" docker-cluster 1000 "$WORK_DIR/cluster.got" 2>"$WORK_DIR/consume.err" &&
    why="$(same_records "$WORK_DIR/cluster.all" "$WORK_DIR/cluster.got")"; then
    pass "compose-cluster.yaml: with weir-$victim down, kcat consumes all 1000 records back"
else
    fail "compose-cluster.yaml: with weir-$victim down, every record back" "${why:-} $(tail -3 "$WORK_DIR/consume.err" | tr '\n' ' ')"
fi

compose_cluster down -v --timeout 30 >"$WORK_DIR/down-cluster.log" 2>&1
CLUSTER_UP=0
left="$(docker ps -aq --filter "label=com.docker.compose.project=$CLUSTER") $(docker volume ls -q --filter "label=com.docker.compose.project=$CLUSTER")"
[ -z "${left// /}" ] && pass "compose-cluster.yaml: down -v removes the containers and volumes (cluster: $(elapsed $t))" ||
    fail "compose-cluster.yaml: down -v" "left: $left"

# ---------------------------------------------------------------------------------------------
# 4. The daemon stopped by PID; still no Docker interface on this machine.
dockerd_stop
bridges="$(docker_bridges)"
[ -z "$bridges" ] && pass "dockerd stopped; no docker0, br-* or veth interface before, during or after" ||
    fail "no Docker interface after the test" "$bridges"
echo "docker suite: $(elapsed $T_START)"
finish
