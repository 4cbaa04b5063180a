#!/bin/bash
# One bash context (contexts.h): the stateful-shell loop of shell.sh, driven by drivers/bash/driver.py.
#   fd 3: records "<command>\0"          fd 4: "<exit_code>\0<cwd>\0" after each command
# Commands run in this shell (eval), so cd, variables and functions persist between executions.
# SIGINT (driver.py forwards an interrupt to the whole process group): the foreground command dies of
# it; the trap only raises a flag, and the DEBUG trap then skips the rest of the command (as for
# SIGUSR1 in shell.sh), so a builtin loop ends too. Background jobs ignore SIGINT (no job control).

__sluice_abort=
shopt -s extdebug
set -T
trap '__sluice_abort=1' INT
__sluice_status() { return "$1"; }
trap '[[ -z $__sluice_abort || ${#FUNCNAME[@]} -eq 0 ]] || __sluice_status 2' DEBUG

__sluice_run() { eval "$1" 3<&- 4>&- </dev/null; }

while IFS= read -r -d '' __sluice_cmd <&3; do
  __sluice_abort=
  __sluice_run "$__sluice_cmd"
  __sluice_rc=$?
  [ -z "$__sluice_abort" ] || __sluice_rc=130
  __sluice_abort=
  printf '%s\0%s\0' "$__sluice_rc" "$PWD" >&4
done
