#!/bin/sh
# Container entrypoint: runs one Một Cửa service, chosen by $SERVICE.
#
#   SERVICE=intake | workflow | payment | metrics   serve that service's HTTP API (one uvicorn
#                                                   process; scale with more containers)
#   SERVICE=migrate                                 run every service's migrations and load the
#                                                   reference data, then exit
#
# The port is the service's default (8001-8004) unless <SERVICE>_HTTP_PORT is set.
# Any argument other than "serve" is run as a command instead, e.g.
#   docker run --rm motcua:local python -m services --help
set -eu

if [ "$#" -gt 0 ] && [ "$1" != "serve" ]; then
    exec "$@"
fi

serve() {
    # $1: package, $2: port
    # Keep-alive longer than a load balancer's idle timeout, so the balancer closes idle
    # connections first and never reuses one the server is closing.
    # X-Forwarded-For is believed only from the proxies in FORWARDED_ALLOW_IPS (addresses or
    # CIDRs, comma-separated: the ingress controller's pods). Anyone else's header is ignored,
    # so a client cannot pick its own address for the lookup's rate limits, and behind the
    # ingress each citizen keeps an address of their own.
    exec uvicorn "$1.app:app" \
        --host "${HTTP_HOST:-0.0.0.0}" \
        --port "$2" \
        --no-access-log \
        --proxy-headers \
        --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
        --timeout-keep-alive "${HTTP_KEEPALIVE_S:-75}" \
        --timeout-graceful-shutdown "${GRACEFUL_SHUTDOWN_S:-20}"
}

service="${SERVICE:-intake}"
case "$service" in
    intake)   serve intake_service   "${INTAKE_HTTP_PORT:-8001}" ;;
    workflow) serve workflow_service "${WORKFLOW_HTTP_PORT:-8002}" ;;
    payment)  serve payment_service  "${PAYMENT_HTTP_PORT:-8003}" ;;
    metrics)  serve metrics_service  "${METRICS_HTTP_PORT:-8004}" ;;
    migrate)  exec python -m services migrate ;;
    *)
        echo "entrypoint: unknown SERVICE '$service' (expected intake, workflow, payment, metrics or migrate)" >&2
        exit 64
        ;;
esac
