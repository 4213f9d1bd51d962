"""``python -m pyrunc``: the same as the ``pyrunc`` command."""
from pyrunc.cli.main import main

if __name__ == "__main__":
    main()
