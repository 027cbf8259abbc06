"""initgrader — grading a submission that cannot forge its grade (COURSE.md §9).

- ``initgrader.sandbox``: the student's kernel, confined (bubblewrap, cgroups, rlimits).
- ``initgrader.wire``: the typed data format between kernel and grader (no pickle, no code).
- ``initgrader.proxy``: the grader's side — a graded test cell evaluated here, the student's
  functions called in the kernel.
- ``initgrader.kernel_serve``: the kernel's side of the proxy.
- ``initgrader.execute``: ``IsolatedExecute``, the execute step nbgrader's autograde uses.
"""
