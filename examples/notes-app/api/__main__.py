"""The notes HTTP API: python3 -m api."""

import sys

from api.app import main

sys.exit(main())
