"""`python -m vcam` runs the `sharpcam` command."""

from vcam.cli import main

if __name__ == "__main__":
    main()
