"""``python3 -m sluice`` is the ``sluice`` command."""
import sys

from .cli import main

sys.exit(main())
