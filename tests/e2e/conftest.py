"""One real stack (Rasa + actions + back office on SQLite) shared by the end-to-end tests."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.support.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(name="e2e-sqlite", workdir=tmp_path_factory.mktemp("e2e-sqlite"), env={})
    try:
        running.start()
        yield running
    finally:
        running.stop()
