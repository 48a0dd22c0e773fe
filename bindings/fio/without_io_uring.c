/*
 * without_io_uring: runs a command in which io_uring_setup(2) fails with
 * EPERM, as it does under the seccomp profiles of container runtimes and
 * with the kernel.io_uring_disabled sysctl. The tests use it to run fio on a
 * machine where io_uring works and still see the engine's fallback to
 * pread/pwrite; nothing else about the command changes, and children
 * (fio's job processes) inherit the filter.
 *
 * usage: without_io_uring COMMAND [ARG...]
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

int main(int argc, char **argv)
{
	/* Every system call is allowed but io_uring_setup, whose number is
	 * the same for every ABI this is built for (425 since Linux 5.1). */
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s COMMAND [ARG...]\n", argv[0]);
		return 2;
	}
	/* Lets an unprivileged process install a filter; it also keeps
	 * set-user-ID programs from gaining privileges, which fio does not
	 * need. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		fprintf(stderr, "without_io_uring: seccomp: %s\n", strerror(errno));
		return 2;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "without_io_uring: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
