# Thin shortcuts: every target is one documented command (see README.md); on Windows,
# run the `python tools/course.py …` command directly.
PY ?= python3

.PHONY: setup lab instructor release release-check test bench mutation grade grade-demo same-grades compare

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

# Mutation testing of initkit (slow, not in `make test`): writes calibration/mutation-<date>.md
mutation:
	$(PY) tools/course.py mutation

# make grade ASSIGNMENT=03-xavier [GRADE_ARGS="--workers 2 --timeout 60"]
grade:
ifndef ASSIGNMENT
	$(error ASSIGNMENT is not set: make grade ASSIGNMENT=<NN-topic>, one of $(notdir $(wildcard solutions/*)))
endif
	$(PY) tools/course.py grade $(ASSIGNMENT) $(GRADE_ARGS)

grade-demo:
	$(PY) tools/course.py grade-demo $(GRADE_ARGS)

# Before a release (slow, not in `make test`): the fast path grades every simulated class as full autograde does
same-grades:
	$(PY) tools/course.py same-grades

# make compare NB=03-xavier: your answers in workspace/ against solutions/
compare:
ifndef NB
	$(error NB is not set: make compare NB=<NN-topic>, one of $(notdir $(wildcard solutions/*)))
endif
	$(PY) tools/course.py compare $(NB) $(COMPARE_ARGS)
