"""Which models a file has, what input each is fed, and which runs of the
interpreter check them: discover.py, pragma.py and sources.py, runner.py,
scheduler.py and coverage.py (see ARCHITECTURE.md)."""
