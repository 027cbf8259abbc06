"""Course tooling (set-up, JupyterLab launchers, release, tests); see tools/course.py."""
