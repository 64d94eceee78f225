"""Media files the store needs before anyone uploads anything."""

from __future__ import annotations

import shutil
from pathlib import Path

import oscar
from django.conf import settings


def ensure_missing_image() -> Path:
    """Put Oscar's "image not found" picture in MEDIA_ROOT.

    Oscar shows it for products without images, and sorl-thumbnail can only
    resize it from there (Oscar's docs ask for this copy).
    """
    target = Path(settings.MEDIA_ROOT) / settings.OSCAR_MISSING_IMAGE_URL
    if not target.exists():
        source = Path(oscar.__file__).parent / "static" / "oscar" / "img" / "image_not_found.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return target
