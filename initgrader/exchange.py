"""``nbgrader collect`` that does not follow a student's links (COURSE.md §9 A).

nbgrader's exchange copies a submission from the exchange's inbound folder with
``shutil.copytree``, which follows symbolic links as the instructor: a notebook submitted as
a link to ``solutions/`` (or to any file the instructor can read) would arrive in
``submitted/`` as a real copy of that file, and be graded as the student's. A named pipe
would hang the copy. This collect step copies links *as links* — ``tools/grade.py`` then
refuses the submission and names them — and leaves out anything that is neither a regular
file, a folder nor a link. Configured in ``nbgrader_config.py`` as
``c.ExchangeFactory.collect``.
"""

from __future__ import annotations

import os
import shutil
import stat

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.utils import ignore_patterns


class LinkKeepingCollect(ExchangeCollect):
    """nbgrader's default collect, with links kept as links and special files left out."""

    def do_copy(self, src, dest, log=None):
        dir_size = self.get_size(src)
        max_dir_size = self.coursedir.max_dir_size
        if dir_size > 1000 * max_dir_size:
            self.log.error("Directory size is too big")
            raise RuntimeError(f"Directory size is too big. Size is {dir_size}, maximum size is {1000 * max_dir_size}")
        ignore_by_name = ignore_patterns(exclude=self.coursedir.ignore, include=self.coursedir.include,
                                         max_file_size=self.coursedir.max_file_size, log=self.log)

        def ignore(folder, names):
            left_out = set(ignore_by_name(folder, names))
            for name in names:
                mode = os.lstat(os.path.join(folder, name)).st_mode
                if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
                    self.log.warning("Left out %s: not a regular file, a folder or a link", os.path.join(folder, name))
                    left_out.add(name)
                elif stat.S_ISLNK(mode):
                    self.log.warning("Kept %s as a link (the grader refuses links)", os.path.join(folder, name))
            return left_out

        shutil.copytree(src, dest, symlinks=True, ignore=ignore)
        if self.coursedir.groupshared:  # as nbgrader's own copy does, links left alone
            for dirname, _, filenames in os.walk(dest):
                mode = os.stat(dirname).st_mode
                if mode & 0o2770 != 0o2770:
                    try:
                        os.chmod(dirname, (mode | 0o2770) & 0o2777)
                    except PermissionError:
                        self.log.warning("Could not update permissions of %s to make it groupshared", dirname)
                for filename in filenames:
                    path = os.path.join(dirname, filename)
                    if os.path.islink(path):
                        continue
                    mode = os.stat(path).st_mode
                    if mode & 0o660 != 0o660:
                        try:
                            os.chmod(path, (mode | 0o660) & 0o777)
                        except PermissionError:
                            self.log.warning("Could not update permissions of %s to make it groupshared", path)
