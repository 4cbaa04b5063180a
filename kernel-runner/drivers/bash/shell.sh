#!/bin/bash
# The sandbox's one stateful shell (protocol/include/sluice/driver.h §2).
#   fd 3 (from the runner): records "<command>\0<stdin>\0"
#   fd 4 (to the runner):   "<exit_code>\0<cwd>\0" after each command
# Commands run in this shell process (eval), so cd, export, functions and background jobs persist.
# They see neither fd 3 nor fd 4: a background job holding fd 4 would keep the runner from noticing
# that the shell died, and a command must not be able to forge results.
#
# Timeouts: the runner kills the command's process tree and sends SIGUSR1. The trap only raises a flag;
# with extdebug + functrace the DEBUG trap then skips every further command of the timed-out command
# (and simulates `return` in each function it is in), so the rest of a list ("a; sleep 9; b") does not
# run on after the kill, and a builtin loop ends too. A shell that still does not come back is
# restarted by the runner.

__sluice_abort=
shopt -s extdebug
set -T
trap '__sluice_abort=1' USR1
# status 0: run the command; 1: skip it; 2: skip it and return from the enclosing function
# (no subshell in the trap: it would inherit the trap and recurse)
__sluice_status() { return "$1"; }
trap '[[ -z $__sluice_abort || ${#FUNCNAME[@]} -eq 0 ]] || __sluice_status 2' DEBUG

__sluice_run() {
  if [ -n "$2" ]; then
    eval "$1" 3<&- 4>&- < <(printf '%s' "$2")
  else
    eval "$1" 3<&- 4>&- </dev/null
  fi
}

while IFS= read -r -d '' __sluice_cmd <&3; do
  IFS= read -r -d '' __sluice_in <&3 || break
  __sluice_abort=
  __sluice_run "$__sluice_cmd" "$__sluice_in"
  __sluice_rc=$?
  [ -z "$__sluice_abort" ] || __sluice_rc=124
  __sluice_abort=
  printf '%s\0%s\0' "$__sluice_rc" "$PWD" >&4
done
