//! Raw syscall helpers behind `pyrunc.low`. Each returns `SysResult` naming
//! the syscall and its main argument.
