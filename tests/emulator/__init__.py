"""A faithful fake of MiniMax's video API and of useapi.net's MiniMax API, for tests and demos.

    emu = Emulator(port=0, config=EmulatorConfig(processing_s=0.3)).start()
    emu.url                  # MiniMax global host; emu.url + "/cn" is the mainland host
    emu.fault("create", "drop_after")
    emu.stats()["tasks"]
    emu.last_create("useapi")  # the last create body received, exactly as sent
    emu.stop()

Run one on its own with `python -m tests.emulator --port 8765` (no Django needed). The one
clip it serves is rendered once into a cache outside the repository (`--cache-dir` to choose).
"""

from tests.emulator.config import FAULT_KINDS, FAULT_ROUTES, EmulatorConfig
from tests.emulator.server import Emulator

__all__ = ["FAULT_KINDS", "FAULT_ROUTES", "Emulator", "EmulatorConfig"]
