import sys

from api.app import main

sys.exit(main())
