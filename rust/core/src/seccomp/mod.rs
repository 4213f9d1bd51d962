//! linux.seccomp compiled to a BPF program and loaded last before execve.
