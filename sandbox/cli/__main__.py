"""``python -m sandbox.cli``: the same as the ``prompt-sandbox`` command."""

from . import main

main()
