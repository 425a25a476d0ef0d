import sys

from superjax.cli import main

sys.exit(main())
