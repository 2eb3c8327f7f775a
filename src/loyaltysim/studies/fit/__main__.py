"""``python -m loyaltysim.studies.fit``: the ``loyaltysim-fit`` command."""

from .cli import main

main()
