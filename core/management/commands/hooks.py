from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from core.hooks import hooks_list


class Command(BaseCommand):
    help = (
        "Lists the hook points by which lower apps let higher ones act (core.hooks), and who is registered."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for name, doc, receivers in hooks_list():
            self.stdout.write(f"{name}: {doc}")
            for receiver in receivers or ["(none)"]:
                self.stdout.write(f"  -> {receiver}")
