"""`python -m reconciler` is the same as the `voicectl` console script."""

from reconciler.cli import main

if __name__ == "__main__":
    main()
