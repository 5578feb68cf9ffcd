#!/usr/bin/env bash
# Start the four services (separate processes) on the local RabbitMQ and SQLite files under var/,
# seed the demo school, and print the URL. `make stop` stops them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONWARNINGS=ignore
BIN=.venv/bin
: "${AMQP_URI:=amqp://guest:guest@localhost:5672/}"
: "${WEB_SERVER_ADDRESS:=0.0.0.0:8000}"
: "${KOPPEL_VAR_DIR:=var}"  # databases, logs, pids, mail (tests point it elsewhere)
export AMQP_URI WEB_SERVER_ADDRESS KOPPEL_VAR_DIR
VAR="$KOPPEL_VAR_DIR"
PORT="${WEB_SERVER_ADDRESS##*:}"
URL="http://localhost:${PORT}"

if ! $BIN/python scripts/check_broker.py; then
  exit 1
fi

bash scripts/stop.sh >/dev/null 2>&1 || true
mkdir -p "$VAR/log" "$VAR/run"
$BIN/koppel db upgrade

# The demo's outside world (KOPPEL_DEMO=0 leaves it out): a fake Momento that speaks UWLR 2.2 and
# accepts the key DEMO-MOMENTO-SLEUTEL, and a learning app that publishes practice results. Both
# start once the services are up (the results service declares the exchange the app publishes to).
: "${KOPPEL_DEMO:=1}"
: "${DEMO_LVS_PORT:=8091}"
if [ "$KOPPEL_DEMO" = 1 ]; then
  export RESULTS_LVS_ENDPOINT_MOMENTO="http://127.0.0.1:${DEMO_LVS_PORT}/uwlr/leerresultaten" RESULTS_LVS_ALLOW_HTTP=1
fi

for service in roster licensing results gateway; do
  nohup $BIN/nameko run --config config.yml "services.${service}.service" >"$VAR/log/${service}.log" 2>&1 &
  echo $! >"$VAR/run/${service}.pid"
done

printf 'waiting for %s/health ' "$URL"
for _ in $(seq 1 60); do
  if curl -fsS "$URL/health" >/dev/null 2>&1; then ok=1; break; fi
  printf '.'; sleep 1
done
echo
if [ "${ok:-0}" != 1 ]; then
  echo "koppel did not become healthy within 60 s; see $VAR/log/*.log"; curl -sS "$URL/health" || true; exit 1
fi

if [ "$KOPPEL_DEMO" = 1 ]; then
  nohup $BIN/python -m tests.fakes.lvs --port "$DEMO_LVS_PORT" --keys DEMO-MOMENTO-SLEUTEL \
    >"$VAR/log/demo-lvs.log" 2>&1 &
  echo $! >"$VAR/run/demo-lvs.pid"
  nohup $BIN/python scripts/demo_learning_app.py >"$VAR/log/demo-learning-app.log" 2>&1 &
  echo $! >"$VAR/run/demo-learning-app.pid"
fi
$BIN/python scripts/seed_demo.py "$URL"
echo
if [ "$KOPPEL_DEMO" = 1 ]; then
  echo "demo LVS: Momento at http://127.0.0.1:${DEMO_LVS_PORT}/uwlr/leerresultaten accepts autorisatiesleutel DEMO-MOMENTO-SLEUTEL;"
  echo "  a demo learning app publishes practice results of De Regenboog every few seconds"
fi
echo "koppel is running: $URL   (health: $URL/health, logs: $VAR/log/, stop: make stop)"
