"""``python -m nexio_lab.cli``: the same as the ``nexio-lab`` command."""

import sys

from . import main

sys.exit(main())
