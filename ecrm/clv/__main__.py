"""``python -m ecrm.clv``: see :mod:`ecrm.clv.cli`."""

import sys

from .cli import main

sys.exit(main())
