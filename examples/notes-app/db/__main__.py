"""The notes database service: python3 -m db."""

import sys

from db.server import main

sys.exit(main())
