import sys

from iqnas.cli import main

sys.exit(main())
