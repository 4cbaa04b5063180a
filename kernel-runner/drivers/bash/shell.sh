#!/bin/bash
# The sandbox's one stateful shell (protocol/include/sluice/driver.h §2).
#   fd 3 (from the runner): records "<command>\0<stdin>\0"
#   fd 4 (to the runner):   "<exit_code>\0<cwd>\0" after each command
# Commands run in this shell process (eval), so cd, export, functions and background jobs persist.
# They see neither fd 3 nor fd 4: a background job holding fd 4 would keep the runner from noticing
# that the shell died, and a command must not be able to forge results.

__sluice_report() { printf '%s\0%s\0' "$1" "$PWD" >&4; }
# `exit N` in a command ends the shell: still report N (the runner restarts the shell afterwards)
trap '__sluice_report "$?"' EXIT

while IFS= read -r -d '' __sluice_cmd <&3; do
  IFS= read -r -d '' __sluice_in <&3 || break
  if [ -n "$__sluice_in" ]; then
    eval "$__sluice_cmd" 3<&- 4>&- < <(printf '%s' "$__sluice_in")
  else
    eval "$__sluice_cmd" 3<&- 4>&- </dev/null
  fi
  __sluice_rc=$?
  __sluice_report "$__sluice_rc"
done
trap - EXIT
