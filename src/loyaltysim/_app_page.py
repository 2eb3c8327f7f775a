"""The module ``solara run`` serves for ``loyaltysim-app`` (see :mod:`loyaltysim.app`)."""

from loyaltysim.app import page as _make_page

page = _make_page()
