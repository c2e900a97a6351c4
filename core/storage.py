"""Writing files through Django's storage API."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def storage_write(path: str, content: bytes) -> None:
    """Writes a file through Django's storage, replacing any earlier one of that name (a retried step)."""
    if default_storage.exists(path):
        default_storage.delete(path)
    saved = default_storage.save(path, ContentFile(content))
    if saved != path:  # another writer raced us to the name: ours is the same content, keep one
        default_storage.delete(saved)
