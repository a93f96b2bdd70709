"""The `emulator` fixture: a MiniMax/useapi emulator on a free loopback port for one test.

It uses the default on-disk clip cache and renders the clip on start if that cache is empty, so
the MP4 is made once per machine and no client request ever waits ~3 s for it.
"""

from collections.abc import Iterator

import pytest

from tests.emulator import Emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(host="127.0.0.1", port=0).start(render=True)
    try:
        yield emu
    finally:
        emu.stop()
