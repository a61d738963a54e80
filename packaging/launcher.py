"""Entry point that PyInstaller freezes into the packaged `deskmate` executable.

It only hands over to the same `app.cli.main` as the `deskmate` console script,
so the packaged app and a source checkout take exactly the same code paths.
"""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
