#!/usr/bin/env bash
# Times the console's pages with a signed-in session: 6 requests per page, the first a warm-up; prints the median and
# the max of the other 5. Needs curl, jq and psql (to pick an endpoint, a message and an application to show).
#   GW=http://127.0.0.1:8080 KEY=pgk_... PG="postgresql://user@127.0.0.1:5432/pushgateway" bench/console/page-times.sh
# The README's figures: 100,000 endpoints in one application, all subscribed to a topic, and one message to that topic.
set -euo pipefail
GW=${GW:?set GW}; KEY=${KEY:?set KEY}; PG=${PG:?set PG}
JAR=$(mktemp)
token=$(curl -s -c "$JAR" "$GW/console/signin" | grep -o 'name="__RequestVerificationToken" type="hidden" value="[^"]*"' | sed 's/.*value="//;s/"$//')
curl -s -b "$JAR" -c "$JAR" -o /dev/null -w "sign in: %{http_code}\n" -X POST "$GW/console/signin" \
  --data-urlencode "key=$KEY" --data-urlencode "__RequestVerificationToken=$token"
EP=$(psql "$PG" -tAc "SELECT id FROM endpoints ORDER BY id DESC LIMIT 1")
PREFIX=$(psql "$PG" -tAc "SELECT left(token, 8) FROM endpoints ORDER BY id DESC LIMIT 1")
USER_ID=$(psql "$PG" -tAc "SELECT user_id FROM endpoints WHERE user_id IS NOT NULL LIMIT 1")
MSG=$(psql "$PG" -tAc "SELECT id FROM messages ORDER BY id DESC LIMIT 1")
APP=$(psql "$PG" -tAc "SELECT application_id FROM endpoints LIMIT 1")
for path in "/console" "/console/endpoints?q=$PREFIX" "/console/endpoints?q=$USER_ID" "/console/endpoints?q=$EP" \
    "/console/endpoints/$EP" "/console/send?kind=endpoint&target=$EP" "/console/messages/$MSG" \
    "/console/events?app=$APP&state=failed" "/console/admin"; do
  runs=()
  for _ in 1 2 3 4 5 6; do runs+=("$(curl -s -b "$JAR" -o /dev/null -w "%{http_code}:%{time_total}" "$GW$path")"); done
  sorted=$(printf "%s\n" "${runs[@]:1}" | cut -d: -f2 | sort -n)
  printf "%-80s %s median %4.0f ms  max %4.0f ms\n" "$path" "${runs[1]%%:*}" \
    "$(echo "$sorted" | sed -n 3p | awk '{print $1*1000}')" "$(echo "$sorted" | tail -1 | awk '{print $1*1000}')"
done
rm -f "$JAR"
