"""Running the hook lists a lower layer offers to higher ones (studio/teams/hooks.py,
videos/hooks.py): the higher app appends functions in its AppConfig.ready()."""

from collections.abc import Callable


def run(hooks: list[Callable], *args) -> None:
    """Calls every registered function, in registration order; an exception stops the rest and
    reaches the caller (inside its transaction, so the change is undone)."""
    for hook in hooks:
        hook(*args)
