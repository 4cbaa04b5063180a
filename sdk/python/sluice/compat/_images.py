"""Maps other systems' image names onto the images a Sluice gateway serves (GET /api/v1/images)."""
from __future__ import annotations

import warnings
from typing import Dict, List, Optional

from .._http import AsyncTransport


class SluiceCompatWarning(UserWarning):
    """A compat layer substituted something (an image, an ignored option)."""


_cache: Dict[str, List[str]] = {}


async def gateway_images(t: AsyncTransport) -> List[str]:
    key = t.config.url
    if key not in _cache:
        data = await t.request("GET", "/api/v1/images")
        _cache[key] = [d["name"] if isinstance(d, dict) else str(d) for d in data or []]
    return _cache[key]


def base_name(image: str) -> str:
    """'docker.io/library/python:3.12-alpine' -> 'python'; 'k2sandbox/python:latest' -> 'python'."""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return name.split(":", 1)[0]


async def resolve_image(t: AsyncTransport, image: Optional[str]) -> Optional[str]:
    """The gateway image for ``image``; None (the gateway's default) when it has nothing like it."""
    if not image:
        return None
    images = await gateway_images(t)
    if image in images:
        return image
    base = base_name(image)
    if base in images:
        return base
    warnings.warn(f"image {image!r} is not served by this Sluice gateway ({', '.join(images)}); "
                  f"using its default image", SluiceCompatWarning, stacklevel=3)
    return None
