#!/bin/sh
# The image's HEALTHCHECK: healthy once the broker answers `weir cluster` (ApiVersions, then
# DescribeCluster) on its own client listener. The address is WEIR_HEALTHCHECK_BOOTSTRAP if
# set, else the first non-controller entry of WEIR_LISTENERS (a wildcard host is probed on
# 127.0.0.1), else 127.0.0.1:9092.
addr="${WEIR_HEALTHCHECK_BOOTSTRAP:-}"
if [ -z "$addr" ]; then
    controller="${WEIR_CONTROLLER_LISTENER_NAMES:-CONTROLLER}"
    old_ifs=$IFS
    IFS=,
    for l in ${WEIR_LISTENERS:-127.0.0.1:9092}; do
        case "$l" in
            "$controller"://*) continue ;;
        esac
        addr="${l#*://}"
        break
    done
    IFS=$old_ifs
    host="${addr%:*}"
    port="${addr##*:}"
    case "$host" in
        "" | 0.0.0.0 | "[::]" | "::") host=127.0.0.1 ;;
    esac
    addr="$host:$port"
fi
exec weir cluster --bootstrap-server "$addr" >/dev/null
