from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel


class ApiToken(TimeStampedModel):
    """An API token of one user. Only a SHA-256 digest of the key is stored; the key is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The key's first characters, so that its owner can tell tokens apart; too short to guess the rest.
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    @staticmethod
    def digest_of(key: str) -> str:
        # Keys are 160 random bits, so a fast hash is enough: nothing to brute-force (unlike passwords).
        return hashlib.sha256(key.encode()).hexdigest()

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user_id}"
