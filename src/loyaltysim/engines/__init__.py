"""The engines: what plays the model's rules step by step.

:mod:`.market` is the Mesa ``Model`` whose step orders the phases; the customers' phases are
played by the NumPy rules of :mod:`loyaltysim.model` or by the compiled loops of
:mod:`.kernel` (:mod:`.engine` chooses, :mod:`.kernel_ops` holds their primitives), or one
Mesa agent at a time (:mod:`.agents`, :mod:`.crowd`: the reference implementation).

May import: :mod:`loyaltysim.model`. Never the run machinery, the studies or the interfaces
(``tests/test_architecture.py`` enforces it).
"""
