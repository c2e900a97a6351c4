"""SQLite named by DATABASE_URL gets the same WAL, BEGIN IMMEDIATE and busy timeout as the default one.

Eight analysts label at once through the real HTTP stack: a gunicorn server (two worker processes of four
threads each, so writers meet across processes and threads) on a throwaway SQLite file given as
`DATABASE_URL=sqlite:///...`. Without those options SQLite answers "database is locked" (HTTP 500) as soon as
two writers meet.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

ANALYSTS = 8
ROUNDS = 8
PASSWORD = "password123"
SERVER_START_TIMEOUT_SECONDS = 60
SETUP = f"""
from projects.choices import Role
from tests.projects.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory
project = ProjectFactory(slug="race")
ItemFactory.create_batch({ANALYSTS * ROUNDS}, project=project)
for n in range({ANALYSTS}):
    MembershipFactory(project=project, user=UserFactory(username=f"analyst{{n}}"), role=Role.ANALYST)
"""


@dataclass
class Server:
    base_url: str
    database: Path
    log_path: Path

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-60:])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _call(
    method: str, url: str, *, token: str = "", body: dict[str, object] | None = None
) -> tuple[int, str]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Token {token}"} if token else {})}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 (http://127.0.0.1)
    try:
        with urllib.request.urlopen(request, timeout=90) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[Server]:
    """gunicorn on a fresh SQLite file named by DATABASE_URL, migrated and holding a project of 8 analysts."""
    database = tmp_path / "race.sqlite3"
    server_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{database}",
        "REDIS_URL": "",
        "OVERSIGHT_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONUNBUFFERED": "1",
    }
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput"], ["shell", "-c", SETUP]):
        subprocess.run(
            manage + command, cwd=settings.BASE_DIR, env=server_env, check=True, capture_output=True
        )
    port = _free_port()
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", f"--bind=127.0.0.1:{port}", "--workers=2",
             "--threads=4", "--timeout=120"],
            cwd=settings.BASE_DIR, env=server_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    server = Server(base_url=f"http://127.0.0.1:{port}", database=database, log_path=log_path)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
        while True:
            try:
                _call("GET", f"{server.base_url}/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, server.log_tail()
                assert time.monotonic() < deadline, server.log_tail()
                time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


def _analyst(server: Server, username: str, barrier: threading.Barrier) -> list[tuple[str, int, str]]:
    """One analyst: log in for a token, then take an item and answer it, ROUNDS times, all at the same instants."""
    status, body = _call("POST", f"{server.base_url}/api/auth/token/", body={"username": username,
                                                                           "password": PASSWORD})  # fmt: skip
    assert status == 200, body
    token = json.loads(body)["token"]
    api = f"{server.base_url}/api/projects/race"
    failures = []
    for _ in range(ROUNDS):
        barrier.wait(timeout=120)
        status, body = _call("GET", f"{api}/queue/next/", token=token)
        if status != 200:
            failures.append(("next", status, body[:300]))
            continue
        item_id = json.loads(body)["item"]["id"]
        answer = {"item_id": item_id, "labels": ["spam"], "client_uuid": str(uuid.uuid4())}
        status, body = _call("POST", f"{api}/annotations/", token=token, body=answer)
        if status != 201:
            failures.append(("submit", status, body[:300]))
    return failures


def test_eight_analysts_labeling_at_once_on_sqlite_from_database_url_get_no_errors(
    sqlite_server: Server,
) -> None:
    # given eight analysts of one project, on SQLite named by DATABASE_URL
    barrier = threading.Barrier(ANALYSTS)

    # when they all ask for an item and answer it at the same instants, eight times over
    with ThreadPoolExecutor(max_workers=ANALYSTS) as pool:
        results = list(pool.map(lambda n: _analyst(sqlite_server, f"analyst{n}", barrier), range(ANALYSTS)))

    # then no request failed, every answer was stored once, and the file is in WAL mode
    assert [failure for failures in results for failure in failures] == [], sqlite_server.log_tail()
    with sqlite3.connect(sqlite_server.database) as db:
        stored = db.execute("SELECT COUNT(*), COUNT(DISTINCT item_id) FROM labeling_annotation").fetchone()
        journal_mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    assert stored == (ANALYSTS * ROUNDS, ANALYSTS * ROUNDS)
    assert journal_mode == "wal"
