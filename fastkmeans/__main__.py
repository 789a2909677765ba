"""``python -m fastkmeans``: the same as the ``fastkmeans`` command."""

import sys

from .cli import main

sys.exit(main())
