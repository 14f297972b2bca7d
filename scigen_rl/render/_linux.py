"""Thin ctypes bindings for the Linux isolation primitives the renderer uses.

Python 3.11 has no ``os.unshare``/``mount``/``capset``/seccomp, and no well-kept PyPI package covers
all of them without native build steps, so the few calls needed are bound here. Every function raises
``OSError`` with the failing call named, so a caller can report which isolation layer is missing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import platform
import re
import struct

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_THREAD = 0x00010000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_REMOUNT = 32
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

_MOUNT_OPTION_FLAGS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}


def _check(result: int, what: str) -> int:
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), f"unshare(0x{flags:x})")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def enc(s: str | None) -> bytes | None:
        return None if s is None else s.encode()

    _check(
        _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
        f"mount({source!r}, {target!r}, {fstype!r}, 0x{flags:x})",
    )


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    return _check(
        _libc.prctl(
            ctypes.c_int(option),
            ctypes.c_ulong(arg2),
            ctypes.c_ulong(arg3),
            ctypes.c_ulong(arg4),
            ctypes.c_ulong(arg5),
        ),
        f"prctl({option})",
    )


def set_parent_death_signal(sig: int) -> None:
    prctl(PR_SET_PDEATHSIG, sig)


def write_id_maps(uid: int, gid: int) -> None:
    """Map root inside a fresh user namespace to the caller's ids outside it (the one mapping a
    process may write for itself: scripts then keep the caller's ids, with no capability)."""
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"0 {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"0 {gid} 1")


def mount_points() -> list[tuple[str, set[str]]]:
    """(mount point, per-mount options) for every mount this process sees, parents first."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
            out.append((point, set(fields[5].split(","))))
    return out


def remount_read_only(point: str, options: set[str], nodev: bool = True) -> None:
    """Make one mount point read-only (and device-free unless ``nodev`` is False) in this mount
    namespace, keeping locked flags.

    ``nodev``: a read-only mount still lets a writer reach the device nodes on it (/dev/kmsg, /dev/kvm).
    """
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY | (MS_NODEV if nodev else 0)
    for name, bit in _MOUNT_OPTION_FLAGS.items():
        if name in options:
            flags |= bit
    mount(None, point, None, flags)


def drop_capabilities(become: tuple[int, int] | None = None) -> None:
    """Empty the bounding, ambient, effective, permitted and inheritable sets; set no_new_privs.

    ``become``: (uid, gid) to switch to once the bounding set is empty and before the rest goes
    (switching needs the capabilities that are dropped last); no supplementary groups are kept."""
    for cap in range(64):
        try:
            prctl(PR_CAPBSET_DROP, cap)
        except OSError as e:
            if e.errno == errno.EINVAL:  # past the last capability this kernel knows
                break
            if e.errno != errno.EPERM:  # EPERM: nothing to drop without CAP_SETPCAP (already unprivileged)
                raise
    try:
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    except OSError as e:
        if e.errno != errno.EINVAL:
            raise
    if become is not None:
        os.setgroups([])
        os.setresgid(become[1], become[1], become[1])
        os.setresuid(become[0], become[0], become[0])  # from uid 0: the capability sets empty too
    header = struct.pack("Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = bytes(24)  # two zeroed {effective, permitted, inheritable} triples
    hbuf = ctypes.create_string_buffer(header, len(header))
    dbuf = ctypes.create_string_buffer(data, len(data))
    _check(_libc.capset(hbuf, dbuf), "capset")
    prctl(PR_SET_NO_NEW_PRIVS, 1)


# --- seccomp -----------------------------------------------------------------------------------------
# Syscalls a rendering script never needs and a hostile one would want: creating processes or
# running programs, any socket (a unix socket path on a read-only mount still connects), tracing
# other processes, changing mounts or namespaces, loading kernel code, io_uring (bypasses filters).
_DENIED = {
    "x86_64": {
        "fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "socket": 41, "socketpair": 53,
        "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "mount": 165, "umount2": 166,
        "unshare": 272, "setns": 308, "pivot_root": 155, "chroot": 161, "keyctl": 250, "add_key": 248,
        "request_key": 249, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "kexec_load": 246,
        "kexec_file_load": 320, "init_module": 175, "finit_module": 313, "delete_module": 176,
        "reboot": 169, "swapon": 167, "swapoff": 168, "acct": 163, "mknod": 133, "mknodat": 259,
        "name_to_handle_at": 303, "open_by_handle_at": 304,
    },
    "aarch64": {
        "execve": 221, "execveat": 281, "socket": 198, "socketpair": 199, "ptrace": 117,
        "process_vm_readv": 270, "process_vm_writev": 271, "mount": 40, "umount2": 39, "unshare": 97,
        "setns": 268, "pivot_root": 41, "chroot": 51, "keyctl": 219, "add_key": 217, "request_key": 218,
        "bpf": 280, "perf_event_open": 241, "userfaultfd": 282, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427, "kexec_load": 104, "init_module": 105,
        "finit_module": 273, "delete_module": 106, "reboot": 142, "swapon": 224, "swapoff": 225,
        "acct": 89, "mknodat": 33, "name_to_handle_at": 264, "open_by_handle_at": 265,
    },
}  # fmt: skip
_ARCH = {"x86_64": (0xC000003E, 56, 435), "aarch64": (0xC00000B7, 220, 435)}  # audit arch, clone, clone3

_LD_W_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL_PROCESS = 0x80000000
# Signals may go only to the script's own process (or its own process group, for kill(0, ...)).
_SIGNAL_CALLS = {
    "x86_64": {"kill": 62, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297},
    "aarch64": {"kill": 129, "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240},
}
# Calls that act on other processes of the same user (priorities, CPU and memory placement), and
# memfd_create, whose memory RLIMIT_AS does not count.
_DENIED["x86_64"].update(
    tkill=200, kcmp=312, setpriority=141, sched_setparam=142, sched_setscheduler=144, sched_setaffinity=203,
    sched_setattr=314, ioprio_set=251, migrate_pages=256, move_pages=279, memfd_create=319,
)  # fmt: skip
_DENIED["aarch64"].update(
    tkill=130, kcmp=272, setpriority=140, sched_setparam=118, sched_setscheduler=119, sched_setaffinity=122,
    sched_setattr=274, ioprio_set=30, migrate_pages=238, move_pages=239, memfd_create=279,
)  # fmt: skip
_DENIED_ON_EVERY_ARCH = {
    "pidfd_send_signal": 424, "pidfd_open": 434, "pidfd_getfd": 438, "process_madvise": 440,
    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442,
}  # fmt: skip
# prlimit64 only on itself (pid 0 or its own); fcntl never to aim signals at another process.
_PRLIMIT64 = {"x86_64": 302, "aarch64": 261}
_FCNTL = {"x86_64": 72, "aarch64": 25}
_F_SETOWN, _F_SETSIG, _F_SETOWN_EX = 8, 10, 15

Instruction = tuple[int, int, int, int]


def seccomp_supported() -> bool:
    return platform.machine() in _ARCH


def _arg0_block(nr: int, allowed: list[int], on_deny: int) -> list[Instruction]:
    """If the syscall is ``nr``: allow it when the low word of args[0] is one of ``allowed``."""
    m = len(allowed)
    block: list[Instruction] = [(_JEQ, 0, m + 3, nr), (_LD_W_ABS, 0, 0, 16)]
    block += [(_JEQ, m - j, 0, v & 0xFFFFFFFF) for j, v in enumerate(allowed)]
    return block + [(_RET, 0, 0, on_deny), (_RET, 0, 0, _RET_ALLOW)]


def _arg1_deny_block(nr: int, denied: list[int], on_deny: int) -> list[Instruction]:
    """If the syscall is ``nr``: refuse it when the low word of args[1] is one of ``denied``."""
    m = len(denied)
    block: list[Instruction] = [(_JEQ, 0, m + 3, nr), (_LD_W_ABS, 0, 0, 24)]
    block += [(_JEQ, m - j, 0, v) for j, v in enumerate(denied)]
    return block + [(_RET, 0, 0, _RET_ALLOW), (_RET, 0, 0, on_deny)]


_EXECVE = {"x86_64": 59, "aarch64": 221}
CLONE_NEWCGROUP = 0x02000000
CLONE_NEW_ANY = (
    CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP
)
"""Every namespace flag of clone: a started program may not make one."""


def _exec_block(nr: int, program: tuple[int, int], on_deny: int) -> list[Instruction]:
    """If the syscall is ``nr`` (execve): allow it only when args[0] and args[1] are exactly the two
    addresses of ``program`` (the path and argv arrays the caller built before the filter)."""
    path, argv = program
    words = [(16, path & 0xFFFFFFFF), (20, path >> 32), (24, argv & 0xFFFFFFFF), (28, argv >> 32)]
    block: list[Instruction] = [(_JEQ, 0, 2 * len(words) + 2, nr)]
    for i, (offset, value) in enumerate(words):
        left = len(words) - 1 - i
        block += [(_LD_W_ABS, 0, 0, offset), (_JEQ, 0, 2 * left + 1, value)]
    return block + [(_RET, 0, 0, _RET_ALLOW), (_RET, 0, 0, on_deny)]


def _seccomp_program(own_pid: int, program: tuple[int, int] | None = None) -> list[Instruction]:
    machine = platform.machine()
    if machine not in _ARCH:
        raise OSError(errno.ENOSYS, f"seccomp filter: no syscall table for {machine}")
    audit_arch, clone_nr, clone3_nr = _ARCH[machine]
    denied = set(_DENIED[machine].values()) | set(_DENIED_ON_EVERY_ARCH.values())
    if program is not None:
        denied.discard(_EXECVE[machine])
    eperm = _RET_ERRNO | errno.EPERM
    prog: list[Instruction] = [
        (_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (_JEQ, 1, 0, audit_arch),
        (_RET, 0, 0, _RET_KILL_PROCESS),
        (_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
    ]
    if machine == "x86_64":  # the x32 ABI shares the arch value: refuse it outright
        prog += [(_JGE, 0, 1, 0x40000000), (_RET, 0, 0, eperm)]
    for nr in sorted(denied):
        prog += [(_JEQ, 0, 1, nr), (_RET, 0, 0, eperm)]
    # clone3 passes flags in memory a filter cannot read: ENOSYS makes libc fall back to clone.
    prog += [(_JEQ, 0, 1, clone3_nr), (_RET, 0, 0, _RET_ERRNO | errno.ENOSYS)]
    if program is None:
        # clone is allowed only for threads (CLONE_THREAD in the low word of args[0]).
        prog += [
            (_JEQ, 0, 4, clone_nr),
            (_LD_W_ABS, 0, 0, 16),
            (_JSET, 1, 0, CLONE_THREAD),
            (_RET, 0, 0, eperm),
            (_RET, 0, 0, _RET_ALLOW),
        ]
    else:
        # A process may be started (to run the one program), never in namespaces of its own.
        prog += [
            (_JEQ, 0, 4, clone_nr),
            (_LD_W_ABS, 0, 0, 16),
            (_JSET, 0, 1, CLONE_NEW_ANY),
            (_RET, 0, 0, eperm),
            (_RET, 0, 0, _RET_ALLOW),
        ]
        prog += _exec_block(_EXECVE[machine], program, eperm)
    for name, nr in _SIGNAL_CALLS[machine].items():
        prog += _arg0_block(nr, [own_pid, 0] if name == "kill" else [own_pid], eperm)
    prog += _arg0_block(_PRLIMIT64[machine], [own_pid, 0], eperm)
    prog += _arg1_deny_block(_FCNTL[machine], [_F_SETOWN, _F_SETSIG, _F_SETOWN_EX], eperm)
    prog.append((_RET, 0, 0, _RET_ALLOW))
    return prog


def install_seccomp_filter(program: tuple[int, int] | None = None) -> None:
    """Install the filter on this (single-threaded) process; it cannot be removed afterwards.

    ``program``: (address of the path, address of the argv array) of the one program this process
    may start. Without it, no process can be created and nothing executed. With it, child processes
    may be forked and ``execve`` is allowed only with exactly those two pointers: the caller builds
    both in memory before the filter goes on and passes them unchanged, so the program is fixed
    before any untrusted input is read. The filter stays on the started program, where those
    addresses mean nothing: it cannot start another (shell escapes, font generators) either."""
    prog = _seccomp_program(os.getpid(), program)
    raw = b"".join(struct.pack("HBBI", code, jt, jf, k) for code, jt, jf, k in prog)
    filt = ctypes.create_string_buffer(raw, len(raw))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.cast(filt, ctypes.c_void_p))
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    _check(
        _libc.prctl(
            ctypes.c_int(PR_SET_SECCOMP),
            ctypes.c_ulong(SECCOMP_MODE_FILTER),
            ctypes.c_void_p(ctypes.addressof(fprog)),
            ctypes.c_ulong(0),
            ctypes.c_ulong(0),
        ),
        "prctl(PR_SET_SECCOMP)",
    )


# --- copy-on-write prefaulting ------------------------------------------------------------------------
MADV_POPULATE_WRITE = 23  # Linux 5.14+
_PAGE = os.sysconf("SC_PAGE_SIZE")
_libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]


def _private_anonymous_regions() -> list[tuple[int, int]]:
    regions = []
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            perms, path = parts[1], (parts[5] if len(parts) > 5 else "")
            if perms.startswith("rw") and perms[3] == "p" and path in ("", "[heap]"):
                start, end = (int(x, 16) for x in parts[0].split("-"))
                regions.append((start, end))
    return regions


def written_page_runs() -> list[tuple[int, int]]:
    """Address ranges of this process's private memory that it alone maps: what it wrote since fork."""
    runs: list[list[int]] = []
    with open("/proc/self/pagemap", "rb") as f:
        for start, end in _private_anonymous_regions():
            f.seek(start // _PAGE * 8)
            entries = f.read((end - start) // _PAGE * 8)
            for i, (entry,) in enumerate(struct.iter_unpack("<Q", entries)):
                if entry >> 63 & 1 and entry >> 56 & 1:  # present and exclusively mapped
                    page = start + i * _PAGE
                    if runs and runs[-1][1] == page:
                        runs[-1][1] = page + _PAGE
                    else:
                        runs.append([page, page + _PAGE])
    return [(a, b) for a, b in runs]


def populate_write(runs: list[tuple[int, int]]) -> int:
    """Break copy-on-write sharing of these ranges in bulk, ahead of use; returns bytes populated.

    One madvise per range costs a fraction of the page faults it replaces (each fault is an exception
    and, in a VM, often an exit). Ranges not mapped here, or a kernel without the call, are skipped.
    """
    done = 0
    for start, end in runs:
        if _libc.madvise(start, end - start, MADV_POPULATE_WRITE) == 0:
            done += end - start
        elif ctypes.get_errno() == errno.EINVAL:
            return done  # kernel older than 5.14
    return done
