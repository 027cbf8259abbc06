"""``python -m initgrader.nbgrader_main ARGS`` is ``python -m nbgrader ARGS`` without
``rfc3987_syntax``: every nbgrader command the grader starts goes through here.

nbformat validates notebooks with jsonschema, and jsonschema's format checkers import
``rfc3987_syntax`` when it is installed (Jupyter's ``jupyter-events`` pulls it in), which
builds an Earley parser for RFC 3987 at import: about 0.9 CPU-s, paid again by each of the
nbgrader processes a class run starts (one autograde and one feedback per student). It only
checks the ``iri`` string format, which no nbformat or nbgrader schema uses, so the import
is refused and jsonschema skips that one check.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # makes `import rfc3987_syntax` raise ImportError

from nbgrader.apps.nbgraderapp import main  # noqa: E402

if __name__ == "__main__":
    main()
