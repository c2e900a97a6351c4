"""Who gave an answer, as the agreement reports name them: a user, or a name from an imported file."""

from __future__ import annotations


def annotator_identity(annotator_id: int | None, username: str | None, external: str) -> tuple[str, str]:
    """(key, display name): `user:<id>` shown by username, or `ext:<name>` from an import's annotator column
    (`ext:import` when the column was blank)."""
    if annotator_id is not None:
        return f"user:{annotator_id}", username or f"user {annotator_id}"
    name = external.strip() or "import"
    return f"ext:{name}", name
