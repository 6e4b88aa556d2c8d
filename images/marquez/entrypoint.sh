#!/bin/sh
# JAVA_OPTS may carry several options: left unquoted on purpose.
# shellcheck disable=SC2086
exec java ${JAVA_OPTS:-} -Duser.timezone=UTC -Dlog4j2.formatMsgNoLookups=true \
  -jar /usr/src/app/marquez.jar server "${MARQUEZ_CONFIG:?MARQUEZ_CONFIG names the config file}"
