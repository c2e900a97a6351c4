"""The import's COPY sender on PostgreSQL: copies sent from a thread of its own, in order, inside the caller's
transaction, with every other statement waiting for them and a failure raised where the caller can see it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import Future
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from django.db import DataError, connection, transaction

from core.queries import fk_triggers_may_be_off
from imports.services.copy_sender import SWITCH_INTERVAL_S, CopySender
from imports.services.jobs import import_options_build, items_import
from projects.choices import OnConflict
from projects.models import Item, Project
from tests.projects.factories import ProjectFactory

pytestmark = pytest.mark.integration

COPY_NUMBERS = "COPY copy_sender_probe (n, word) FROM STDIN"


@pytest.fixture
def probe_table() -> str:
    """A table of the test's own, dropped with the test's transaction."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE copy_sender_probe (n integer NOT NULL, word text NOT NULL)")
    return "copy_sender_probe"


def probe_rows() -> list[tuple[int, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT n, word FROM copy_sender_probe ORDER BY n")
        return list(cursor.fetchall())


def rows_text(first: int, last: int) -> str:
    return "".join(f"{n}\tword {n}\n" for n in range(first, last + 1))


@pytest.mark.django_db
def test_a_statement_after_handed_over_copies_sees_their_rows(probe_table: str) -> None:
    # given a sender with three copies handed over, the last one written row by row
    def write_rows(copy: Any) -> None:
        copy.write_row((7, "seven"))

    with transaction.atomic(), CopySender() as sender:
        sender.copy(COPY_NUMBERS, rows_text(1, 3), fk_triggers_off=False)
        sender.copy(COPY_NUMBERS, rows_text(4, 6), fk_triggers_off=False)
        sender.copy(COPY_NUMBERS, write_rows, fk_triggers_off=False)

        # when a statement runs through Django's connection while the sender is open
        seen = probe_rows()

    # then it ran after every copy handed over before it
    assert seen == [(n, f"word {n}") for n in range(1, 7)] + [(7, "seven")]


@pytest.mark.django_db
def test_a_read_handed_over_waits_in_line_behind_the_copies_before_it(probe_table: str) -> None:
    # given a sender with a copy handed over
    with transaction.atomic(), CopySender() as sender:
        sender.copy(COPY_NUMBERS, rows_text(1, 500), fk_triggers_off=False)

        # when a read is handed over after it, then another copy
        counted = sender.query("SELECT count(*), max(n) FROM copy_sender_probe WHERE n <= %s", [1000])
        sender.copy(COPY_NUMBERS, rows_text(501, 600), fk_triggers_off=False)

        # then the read saw the copy before it and not the one after
        assert sender.rows_of(counted) == [(500, 500)]
    assert len(probe_rows()) == 600


@pytest.mark.django_db
def test_a_failed_copy_is_raised_as_djangos_error_and_what_follows_it_is_dropped(probe_table: str) -> None:
    # given a sender whose second copy holds a value its column refuses, and a copy and a read after it
    late: list[Future[list[tuple[Any, ...]]]] = []

    def import_with_a_bad_copy() -> None:
        with transaction.atomic(), CopySender() as sender:
            sender.copy(COPY_NUMBERS, rows_text(1, 3), fk_triggers_off=False)
            sender.copy(COPY_NUMBERS, "not a number\tword\n", fk_triggers_off=False)
            sender.copy(COPY_NUMBERS, rows_text(4, 6), fk_triggers_off=False)
            late.append(sender.query("SELECT 1", []))
            probe_rows()  # the caller next needs the connection

    # when it runs
    with pytest.raises(DataError) as raised:
        import_with_a_bad_copy()

    # then PostgreSQL's error reached the caller as Django's, the read behind it was never sent, and the
    # transaction rolled back to nothing
    assert "invalid input syntax for type integer" in str(raised.value)
    assert late[0].exception() is not None
    assert probe_rows() == []


@pytest.mark.django_db
def test_an_error_of_the_callers_drops_the_queued_copies_before_the_rollback(probe_table: str) -> None:
    # given copies handed over, then a failure of the caller's before they are all in
    def import_that_fails() -> None:
        with transaction.atomic(), CopySender() as sender:
            for first in range(1, 5000, 500):
                sender.copy(COPY_NUMBERS, rows_text(first, first + 499), fk_triggers_off=False)
            raise RuntimeError("the reader found a bad line")

    # when it runs
    with pytest.raises(RuntimeError):
        import_that_fails()

    # then the transaction rolled back and the connection is usable (no copy under way, nothing left queued)
    assert probe_rows() == []
    with CopySender() as sender:
        sender.copy(COPY_NUMBERS, rows_text(1, 2), fk_triggers_off=False)
    assert len(probe_rows()) == 2


@pytest.mark.django_db
def test_foreign_key_triggers_are_back_on_for_every_other_statement(probe_table: str) -> None:
    if not fk_triggers_may_be_off():
        pytest.skip("this role may not set session_replication_role")

    # given a copy sent with the foreign-key triggers off
    with transaction.atomic(), CopySender() as sender:
        sender.copy(COPY_NUMBERS, rows_text(1, 2), fk_triggers_off=True)

        # when the caller runs a statement of its own
        with connection.cursor() as cursor:
            cursor.execute("SHOW session_replication_role")
            role = cursor.fetchone()[0]

    # then the sender put them back on before it
    assert role == "origin"


@pytest.mark.django_db
def test_an_import_in_many_batches_of_known_and_new_ids_looks_each_batch_up_ahead(
    write_file: Callable[[str, str], Path],
) -> None:
    # given a project holding a2 and a4, and a file that brings them back among new ids, in batches of two
    project: Project = ProjectFactory()
    first = write_file("first.csv", "id,text\na2,two\na4,four\n")
    items_import(project=project, source=first, options=import_options_build(id_field="id"))
    source = write_file(
        "more.csv", "id,text\nb1,new one\na2,two again\nb2,new two\na4,four again\nb3,new three\n"
    )

    # when it is imported, updating known ids
    result = items_import(
        project=project, source=source, batch_size=2,
        options=import_options_build(id_field="id", on_conflict=OnConflict.UPDATE),
    )  # fmt: skip

    # then the known items were updated in place and the new ones created once each, their ids ascending in
    # the file's order after the known ones
    assert (result.items_created, result.items_updated, result.items_skipped) == (3, 2, 0)
    items = list(Item.objects.filter(project=project).order_by("id").values_list("external_id", "text"))
    assert items == [
        ("a2", "two again"), ("a4", "four again"), ("b1", "new one"), ("b2", "new two"), ("b3", "new three"),
    ]  # fmt: skip


@pytest.mark.django_db
def test_pythons_switch_interval_is_short_while_a_sender_is_open_and_back_after(probe_table: str) -> None:
    # given the process's switch interval
    before = sys.getswitchinterval()

    # when two senders are open, one inside the other, then closed
    with CopySender():
        with CopySender():
            inner = sys.getswitchinterval()
        between = sys.getswitchinterval()
    after = sys.getswitchinterval()

    # then it was short while any was open, and is the process's own again after the last one closed
    assert inner == between == pytest.approx(min(before, SWITCH_INTERVAL_S))
    assert after == before


@pytest.mark.django_db
def test_item_ids_drawn_that_are_not_one_range_are_given_out_as_drawn(
    write_file: Callable[[str, str], Path],
) -> None:
    # given an items' sequence that skips every other number (as when another session draws between ours)
    project: Project = ProjectFactory()
    source = write_file("items.csv", "id,text\n" + "".join(f"r{n},row {n}\n" for n in range(1, 8)))
    with connection.cursor() as cursor:
        cursor.execute("ALTER SEQUENCE labeling_item_id_seq INCREMENT BY 2")
    try:
        # when a file is imported in batches of three
        items_import(
            project=project, source=source, batch_size=3, options=import_options_build(id_field="id")
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER SEQUENCE labeling_item_id_seq INCREMENT BY 1")

    # then each item has one of the ids drawn, ascending in the file's order
    rows = list(Item.objects.filter(project=project).order_by("id").values_list("id", "external_id"))
    assert [external_id for _, external_id in rows] == [f"r{n}" for n in range(1, 8)]
    assert {later - earlier for (earlier, _), (later, _) in pairwise(rows)} == {2}
