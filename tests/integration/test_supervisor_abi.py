# SPDX-License-Identifier: Apache-2.0
"""Programs of another ABI: the supervisor's filter watches x86-64 calls
only, so a 32-bit static program is seen by nobody, and the report must
say so whoever started it: a dynamic shell (the library's exec hook does
not arm it) or a static one already under the filter (the supervisor
sees the exec, then nothing of the new image; it must not speak for it).
The program is a hand-made i386 ELF (written by the test, no toolchain
needed) that writes a line and exits with status 7 through int 0x80."""
import errno
import os
import struct
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roartest as rt  # noqa: E402
from test_supervisor import SupTest, has_interp  # noqa: E402

MSG = b"hi from i386\n"


BASE, CODE_OFF = 0x08048000, 0x54  # where the one segment is loaded
DATA_OFF = CODE_OFF + 0x40         # the code's data, after 64 bytes of it


def write_elf32(path, code, data):
    """A static i386 executable of one segment: code (at most 64 bytes)
    then data, at fixed addresses (data at BASE + DATA_OFF)."""
    body = code.ljust(DATA_OFF - CODE_OFF, b"\x90") + data
    ehdr = (b"\x7fELF\x01\x01\x01" + b"\x00" * 9 +
            struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, BASE + CODE_OFF, 0x34, 0,
                        0, 0x34, 0x20, 1, 0, 0, 0))
    size = CODE_OFF + len(body)
    phdr = struct.pack("<IIIIIIII", 1, 0, BASE, BASE, size, size, 5, 0x1000)
    with open(path, "wb") as f:
        f.write(ehdr + phdr + body)
    os.chmod(path, 0o755)
    return path


def mov(reg, value):
    """mov reg, imm32 (eax ecx edx ebx: registers 0 to 3)."""
    return bytes([0xb8 + "acdb".index(reg[1])]) + struct.pack("<I", value)


def exit_with(status):
    return mov("eax", 1) + mov("ebx", status) + b"\xcd\x80"


def write_i386_elf(path):
    """write(1, MSG), exit(7), by int 0x80."""
    code = (mov("eax", 4) + mov("ebx", 1) + mov("ecx", BASE + DATA_OFF) +
            mov("edx", len(MSG)) + b"\xcd\x80" + exit_with(7))
    return write_elf32(path, code, MSG)


def write_i386_exec(path, target, args):
    """execve(target, args, NULL) through int 0x80 (a call the filter
    does not watch), or exit(9)."""
    strings, addrs = b"", []
    for a in [target] + list(args):
        addrs.append(BASE + DATA_OFF + len(strings))
        strings += a.encode() + b"\0"
    argv = b"".join(struct.pack("<I", x) for x in addrs[1:]) + b"\0" * 4
    code = (mov("eax", 11) + mov("ebx", addrs[0]) +
            mov("ecx", BASE + DATA_OFF + len(strings)) +
            b"\x31\xd2" + b"\xcd\x80" + exit_with(9))  # xor edx, edx
    return write_elf32(path, code, strings + argv)


class OtherAbi(SupTest):
    def setUp(self):
        super().setUp()
        self.exe = write_i386_elf(self.path("i386prog"))
        try:
            bare = subprocess.run([self.exe], capture_output=True)
        except OSError as e:
            if e.errno != errno.ENOEXEC:
                raise
            self.skipTest("this kernel does not run i386 programs "
                          "(no IA32 emulation): %s" % e)
        # It runs: then it must do what it says (else the test is wrong).
        self.assertEqual((bare.returncode, bare.stdout), (7, MSG))

    def assertUnseenOtherAbi(self, p):
        what = {k: v for k, v in p.items() if k != "env"}
        self.assertFalse(p["traced"], what)
        self.assertEqual(p["traced_by"], "none", what)
        self.assertIn("another ABI", p["untraced_reason"] or "", what)
        self.assertIn(self.exe, p["untraced_reason"], what)

    def untraced(self, run):
        return [p for p in run.processes() if not p["traced"]]

    def assertChildOfShell(self, shell, traced_by):
        """The i386 program run by shell (argv up to "-c"): it ran, the
        shell is reported by traced_by, and the program is listed
        untraced (the filter never saw its calls) as the shell's child."""
        run = rt.run_traced(shell + ['"$0"; echo rc=$?', self.exe],
                            self.work)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertEqual(run.proc.stdout, MSG + b"rc=7\n")
        root = self.assertOneRoot(run)
        self.assertTracedBy(root, traced_by)
        (p,) = self.untraced(run)
        self.assertUnseenOtherAbi(p)
        self.assertEqual(p["parent_pid"], root["pid"])

    def test_child_of_dynamic_shell(self):
        self.assertChildOfShell(["bash", "-c"], "preload")

    def test_child_of_supervised_shell(self):
        busybox = rt.ensure_tool("busybox", "busybox-static")
        if has_interp(busybox):
            self.skipTest("%s is the dynamic busybox; the static one is "
                          "package busybox-static" % busybox)
        self.assertChildOfShell(["busybox", "sh", "-c"], "supervisor")

    def test_native_image_it_execs_is_seen_again(self):
        """An i386 program that execs a static x86-64 busybox cat through
        its own int 0x80 (unwatched): the cat's calls are watched again,
        and the cat is reported, with what it read."""
        busybox = rt.ensure_tool("busybox", "busybox-static")
        if has_interp(busybox):
            self.skipTest("%s is the dynamic busybox; the static one is "
                          "package busybox-static" % busybox)
        src = self.wwrite("in", "through i386\n")
        exe = write_i386_exec(self.path("i386exec"), busybox,
                              ["busybox", "cat", "in"])
        run = rt.run_traced(["busybox", "sh", "-c", '"$0"; echo rc=$?', exe],
                            self.work)
        self.assertEqual(run.returncode, 0, run.proc.stderr)
        self.assertEqual(run.proc.stdout, b"through i386\nrc=0\n")
        root = self.assertOneRoot(run)
        self.assertSupervised(root)
        cat = self.proc(run, ["busybox", "cat", "in"])
        self.assertSupervised(cat)
        self.assertEqual(cat["parent_pid"], root["pid"])
        self.assertEqual(cat["read_paths"], [src])


if __name__ == "__main__":
    unittest.main(verbosity=2)
