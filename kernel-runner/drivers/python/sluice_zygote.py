"""Python side of sluice-zygote (protocol/docs/zygote.md): imported once per image, forked per sandbox.

preload(modules) runs in the zygote: it imports the image's modules and the driver, builds the IPython
backend (history in memory, so no history thread: the zygote must stay single-threaded to fork) bound to
a channel that does not exist yet, collects and freezes the heap (gc.freeze: forked children never
touch those pages for the collector, so they stay shared).

child(env) runs in each forked child once C code has moved it into its sandbox (namespaces, cgroups,
uid, capabilities, seccomp, fds 0..4): it takes the sandbox's environment, reseeds every random number
generator it can reach (the zygote's state was copied into every child) and becomes the driver.
"""
import gc
import importlib
import json
import os
import random
import sys

_backend = None


class _LateChannel:
    """The backend's channel before there is one: the child plugs the real driver.Channel in."""
    real = None

    def emit(self, event):
        return self.real.emit(event)

    def read(self):
        return self.real.read()


_late = _LateChannel()


def preload(modules_json):
    global _backend
    # what a cold driver sets before matplotlib is imported (ipython_backend does it at import)
    import ipython_backend
    import driver
    for name in json.loads(modules_json):
        importlib.import_module(name)
    _backend = ipython_backend.Backend(_late.emit, _late, driver.read_input, history_file=":memory:")
    gc.collect()
    gc.freeze()


def _reseed():
    random.seed()  # also done by random's own at-fork hook; once more costs nothing
    np = sys.modules.get("numpy")
    if np is not None:
        np.random.seed()  # the legacy global RandomState behind np.random.rand() etc.
    # uuid4, secrets, os.urandom and tempfile's names read the kernel's entropy (or check the pid) each time


def child(env_json):
    import driver
    import ipython_backend
    os.environ.clear()
    for kv in json.loads(env_json):
        k, _, v = kv.partition("=")
        os.environ[k] = v
    ipython_backend.inline_backend_env()
    _reseed()
    shell = _backend.shell
    shell.user_ns["_dh"] = [os.getcwd()]  # IPython's directory history starts where the sandbox does
    return driver.main(backend=_backend, late_channel=_late)
