"""`python -m trialscreen` runs the command line."""

from trialscreen_cli.main import run

if __name__ == "__main__":
    run()
