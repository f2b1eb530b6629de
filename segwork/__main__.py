"""`python -m segwork` entry point."""
import sys

from segwork.cli import main

sys.exit(main())
