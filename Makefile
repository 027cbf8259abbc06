# Thin shortcuts: every target is one documented command (see README.md); on Windows,
# run the `python tools/course.py …` command directly.
PY ?= python3

.PHONY: setup lab instructor release release-check test bench

setup:
	$(PY) tools/course.py setup

lab:
	$(PY) tools/course.py lab

instructor:
	$(PY) tools/course.py instructor

release:
	$(PY) tools/course.py release

release-check:
	$(PY) tools/course.py release --check

test:
	$(PY) tools/course.py test

bench:
	$(PY) tools/course.py bench
