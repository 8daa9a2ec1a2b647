import sys

from exoactor.cli import main

sys.exit(main())
