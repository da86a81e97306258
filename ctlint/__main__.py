import sys

from ctlint.cli import main

sys.exit(main())
