# SPDX-License-Identifier: Apache-2.0
"""What the seccomp supervisor credits through an fd: the first read or
write through an fd names the file as it was opened last, also when the
same file was opened before under another name (renamed, or linked).
Read-write opens credit nothing by themselves (roar's rule), so these
credits come from the moves alone.  The program is a gcc -static one
(fixtures/supervisor/reopen.c)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roartest as rt  # noqa: E402
from test_supervisor import SupTest, build_static  # noqa: E402


class ReopenedNames(SupTest):
    def test_moves_name_the_latest_open(self):
        exe = build_static("reopen", self.path("reopen"))
        run = rt.run_traced([exe, self.work], self.work)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertEqual(run.proc.stdout, b"done\n")
        root = self.assertOneRoot(run)
        self.assertSupervised(root)
        final, linked = self.wpath("final.out"), self.wpath("linked.out")
        # The read went through final.out's fd, the write through
        # linked.out's: never the names the file had at earlier opens.
        self.assertIn(final, run.read_set())
        self.assertNotIn(self.wpath("tmp.out"), run.read_set())
        self.assertIn(linked, run.written_set())
        self.assertIn(final, root["read_paths"])
        self.assertIn(linked, root["written_paths"])
        self.assertIn(self.wpath("tmp.out"), root["written_paths"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
