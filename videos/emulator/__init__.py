"""A faithful fake of MiniMax's video API and of useapi.net's MiniMax API, for tests and demos.

    emu = Emulator(port=0, config=EmulatorConfig(processing_s=0.3)).start()
    emu.url                  # MiniMax global host; emu.url + "/cn" is the mainland host
    emu.fault("create", "drop_after")
    emu.stats()["tasks"]
    emu.stop()

Run one on its own with `python manage.py minimax_emulator --port 8765`.
"""

from videos.emulator.config import FAULT_KINDS, FAULT_ROUTES, EmulatorConfig
from videos.emulator.server import Emulator

__all__ = ["FAULT_KINDS", "FAULT_ROUTES", "Emulator", "EmulatorConfig"]
