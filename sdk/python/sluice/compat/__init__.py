"""Drop-in clients for code written against other sandbox SDKs, implemented on Sluice's core API.

Change one import and point the client at a Sluice gateway:

- ``from sluice.compat.katakate import Client, AsyncClient``   (katakate / k7)
- ``from sluice.compat.sandkasten import SandboxClient``       (sandkasten)
- ``from sluice.compat.k2 import Sandbox``                     (K2 Sandbox, E2B-like)
- ``from sluice.compat.agentkernel import AgentKernel, AsyncAgentKernel``  (agentkernel)

Image names of those systems that the gateway does not serve (``alpine:latest``, ``python:3.12-alpine``,
``node:22-alpine``, ``k2sandbox/python:latest``...) map to the gateway image of the same base name when
there is one, else to the gateway's default image, with a ``SluiceCompatWarning``.
"""
from ._images import SluiceCompatWarning

__all__ = ["SluiceCompatWarning"]
