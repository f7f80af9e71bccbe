#!/bin/sh
# Render the index page (version + hostname) once, then serve in the foreground.
set -e
host="$(hostname)"
sed -e "s|@VERSION@|${HELLO_VERSION:-dev}|g" -e "s|@HOSTNAME@|${host}|g" \
    /www/index.html.in >/www/index.html
echo "hello ${HELLO_VERSION:-dev} on ${host}: httpd listening on :8080"
exec httpd -f -p 8080 -h /www
