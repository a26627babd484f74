"""``python -m recon``: the same command line as the ``recon`` script."""

from recon.cli import main

if __name__ == "__main__":
    main()
