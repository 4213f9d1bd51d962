//! `linux.seccomp` read from its config.json JSON, with field paths.
//!
//! Parsed by hand rather than by serde derive so that every error names the
//! exact field (`linux.seccomp.syscalls[3].args[0].op`).
use super::syscalls::Arch;
use super::SeccompError;
use serde_json::{Map, Value};

const BASE: &str = "linux.seccomp";

/// `SCMP_ACT_*` without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    KillProcess,
    KillThread,
    Trap,
    Errno,
    Trace,
    Allow,
    Log,
    Notify,
}

/// The runtime-spec's action names in its order; SCMP_ACT_KILL is
/// libseccomp's old name for KILL_THREAD.
pub const ACTIONS: &[(&str, ActionKind)] = &[
    ("SCMP_ACT_KILL", ActionKind::KillThread),
    ("SCMP_ACT_KILL_PROCESS", ActionKind::KillProcess),
    ("SCMP_ACT_KILL_THREAD", ActionKind::KillThread),
    ("SCMP_ACT_TRAP", ActionKind::Trap),
    ("SCMP_ACT_ERRNO", ActionKind::Errno),
    ("SCMP_ACT_TRACE", ActionKind::Trace),
    ("SCMP_ACT_ALLOW", ActionKind::Allow),
    ("SCMP_ACT_LOG", ActionKind::Log),
    ("SCMP_ACT_NOTIFY", ActionKind::Notify),
];

/// `SECCOMP_RET_*` (linux/seccomp.h).
pub mod ret {
    pub const KILL_PROCESS: u32 = 0x8000_0000;
    pub const KILL_THREAD: u32 = 0x0000_0000;
    pub const TRAP: u32 = 0x0003_0000;
    pub const ERRNO: u32 = 0x0005_0000;
    pub const USER_NOTIF: u32 = 0x7fc0_0000;
    pub const TRACE: u32 = 0x7ff0_0000;
    pub const LOG: u32 = 0x7ffc_0000;
    pub const ALLOW: u32 = 0x7fff_0000;
    pub const DATA: u32 = 0x0000_ffff;
}

const EPERM: u32 = 1;

/// An action with its errno/trace data resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    pub kind: ActionKind,
    /// errnoRet for ERRNO/TRACE (EPERM when unset, as runc does).
    pub data: u32,
}

impl Action {
    /// The filter's return value for this action.
    pub fn ret(self) -> u32 {
        match self.kind {
            ActionKind::KillProcess => ret::KILL_PROCESS,
            ActionKind::KillThread => ret::KILL_THREAD,
            ActionKind::Trap => ret::TRAP,
            ActionKind::Errno => ret::ERRNO | (self.data & ret::DATA),
            ActionKind::Trace => ret::TRACE | (self.data & ret::DATA),
            ActionKind::Allow => ret::ALLOW,
            ActionKind::Log => ret::LOG,
            ActionKind::Notify => ret::USER_NOTIF,
        }
    }
}

/// `SCMP_CMP_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    MaskedEq,
}

pub const OPERATORS: &[(&str, CmpOp)] = &[
    ("SCMP_CMP_NE", CmpOp::Ne),
    ("SCMP_CMP_LT", CmpOp::Lt),
    ("SCMP_CMP_LE", CmpOp::Le),
    ("SCMP_CMP_EQ", CmpOp::Eq),
    ("SCMP_CMP_GE", CmpOp::Ge),
    ("SCMP_CMP_GT", CmpOp::Gt),
    ("SCMP_CMP_MASKED_EQ", CmpOp::MaskedEq),
];

/// `SECCOMP_FILTER_FLAG_*` names the spec knows and their bits.
pub const FLAGS: &[(&str, u32)] = &[
    ("SECCOMP_FILTER_FLAG_TSYNC", 1 << 0),
    ("SECCOMP_FILTER_FLAG_LOG", 1 << 1),
    ("SECCOMP_FILTER_FLAG_SPEC_ALLOW", 1 << 2),
    ("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1 << 5),
];

pub fn flag_bit(name: &str) -> u32 {
    FLAGS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(0, |(_, b)| *b)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgCmp {
    pub index: u32,
    pub op: CmpOp,
    /// For MASKED_EQ the mask; otherwise the value compared with.
    pub value: u64,
    /// For MASKED_EQ the value the masked argument must equal.
    pub value_two: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub names: Vec<String>,
    pub action: Action,
    pub args: Vec<ArgCmp>,
    /// `linux.seccomp.syscalls[i]`, for errors.
    pub field: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub default_action: Action,
    /// Whether defaultErrnoRet was given (runc's ENOSYS stub looks at it).
    pub default_errno_ret: Option<u32>,
    pub architectures: Vec<Arch>,
    pub flags: u32,
    /// `flags` was present (even empty): runc adds SPEC_ALLOW only when the
    /// key is absent.
    pub flags_given: bool,
    pub listener_path: Option<String>,
    pub listener_metadata: Option<String>,
    pub rules: Vec<Rule>,
}

fn err(field: impl Into<String>, msg: impl Into<String>) -> SeccompError {
    SeccompError::Invalid {
        field: field.into(),
        msg: msg.into(),
    }
}

fn obj<'a>(v: &'a Value, field: &str) -> Result<&'a Map<String, Value>, SeccompError> {
    v.as_object().ok_or_else(|| err(field, "must be an object"))
}

fn opt_str<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<&'a str>, SeccompError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(err(format!("{field}.{key}"), "must be a string")),
    }
}

fn opt_u64(
    m: &Map<String, Value>,
    key: &str,
    field: &str,
    max: u64,
) -> Result<Option<u64>, SeccompError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n <= max => Ok(Some(n)),
            _ => Err(err(
                format!("{field}.{key}"),
                format!("must be an integer from 0 to {max}"),
            )),
        },
    }
}

fn opt_array<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<&'a [Value], SeccompError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(err(format!("{field}.{key}"), "must be an array")),
    }
}

fn action(
    m: &Map<String, Value>,
    key: &str,
    errno_key: &str,
    field: &str,
) -> Result<(Action, Option<u32>), SeccompError> {
    let name =
        opt_str(m, key, field)?.ok_or_else(|| err(format!("{field}.{key}"), "is required"))?;
    let kind = ACTIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| *k)
        .ok_or_else(|| err(format!("{field}.{key}"), format!("unknown action {name:?}")))?;
    let errno = opt_u64(m, errno_key, field, u32::MAX as u64)?.map(|n| n as u32);
    if errno.is_some() && !matches!(kind, ActionKind::Errno | ActionKind::Trace) {
        // runtime-spec: "When the action doesn't support an errno, the
        // runtime MUST print and error and fail."
        return Err(err(
            format!("{field}.{errno_key}"),
            format!("{name} does not take an errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)"),
        ));
    }
    Ok((
        Action {
            kind,
            data: errno.unwrap_or(EPERM),
        },
        errno,
    ))
}

/// Reads and validates `linux.seccomp` (the config.json object).
pub fn parse(v: &Value) -> Result<Profile, SeccompError> {
    let m = obj(v, BASE)?;
    let (default_action, default_errno_ret) = action(m, "defaultAction", "defaultErrnoRet", BASE)?;
    if default_action.kind == ActionKind::Notify {
        return Err(err(
            format!("{BASE}.defaultAction"),
            "SCMP_ACT_NOTIFY cannot be used as the default action",
        ));
    }

    let mut architectures = Vec::new();
    for (i, a) in opt_array(m, "architectures", BASE)?.iter().enumerate() {
        let field = format!("{BASE}.architectures[{i}]");
        let name = a.as_str().ok_or_else(|| err(&field, "must be a string"))?;
        let arch = Arch::from_name(name)
            .ok_or_else(|| err(&field, format!("unknown architecture {name:?}")))?;
        if !architectures.contains(&arch) {
            architectures.push(arch);
        }
    }

    let mut flags = 0u32;
    let flags_given = !matches!(m.get("flags"), None | Some(Value::Null));
    for (i, f) in opt_array(m, "flags", BASE)?.iter().enumerate() {
        let field = format!("{BASE}.flags[{i}]");
        let name = f.as_str().ok_or_else(|| err(&field, "must be a string"))?;
        let bit = FLAGS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
            .ok_or_else(|| err(&field, format!("unknown flag {name:?}")))?;
        flags |= bit;
    }

    let listener_path = opt_str(m, "listenerPath", BASE)?
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let listener_metadata = opt_str(m, "listenerMetadata", BASE)?
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if listener_metadata.is_some() && listener_path.is_none() {
        return Err(err(
            format!("{BASE}.listenerMetadata"),
            "must not be set without listenerPath",
        ));
    }

    let mut rules = Vec::new();
    for (i, s) in opt_array(m, "syscalls", BASE)?.iter().enumerate() {
        let field = format!("{BASE}.syscalls[{i}]");
        let sm = obj(s, &field)?;
        let names_v = opt_array(sm, "names", &field)?;
        if names_v.is_empty() {
            return Err(err(
                format!("{field}.names"),
                "must contain at least one syscall name",
            ));
        }
        let mut names = Vec::with_capacity(names_v.len());
        for (j, n) in names_v.iter().enumerate() {
            let name = n.as_str().filter(|s| !s.is_empty());
            names.push(
                name.ok_or_else(|| {
                    err(format!("{field}.names[{j}]"), "must be a non-empty string")
                })?
                .to_string(),
            );
        }
        let (action, _) = action(sm, "action", "errnoRet", &field)?;
        if action.kind == ActionKind::Notify && names.iter().any(|n| n == "write") {
            // The init writes to its sync socket after loading the filter;
            // a notify rule on write would wait on an agent that is not
            // connected yet (runc refuses this too).
            return Err(err(
                format!("{field}.names"),
                "SCMP_ACT_NOTIFY cannot be used for the write syscall",
            ));
        }
        let mut args = Vec::new();
        for (j, a) in opt_array(sm, "args", &field)?.iter().enumerate() {
            let afield = format!("{field}.args[{j}]");
            let am = obj(a, &afield)?;
            let index = opt_u64(am, "index", &afield, 5)?
                .ok_or_else(|| err(format!("{afield}.index"), "is required"))?;
            let value = opt_u64(am, "value", &afield, u64::MAX)?
                .ok_or_else(|| err(format!("{afield}.value"), "is required"))?;
            let value_two = opt_u64(am, "valueTwo", &afield, u64::MAX)?.unwrap_or(0);
            let op_name = opt_str(am, "op", &afield)?
                .ok_or_else(|| err(format!("{afield}.op"), "is required"))?;
            let op = OPERATORS
                .iter()
                .find(|(n, _)| *n == op_name)
                .map(|(_, o)| *o)
                .ok_or_else(|| {
                    err(
                        format!("{afield}.op"),
                        format!("unknown operator {op_name:?}"),
                    )
                })?;
            args.push(ArgCmp {
                index: index as u32,
                op,
                value,
                value_two,
            });
        }
        rules.push(Rule {
            names,
            action,
            args,
            field,
        });
    }

    if listener_path.is_none() && rules.iter().any(|r| r.action.kind == ActionKind::Notify) {
        // The notify fd has to go somewhere: runc refuses this as well.
        return Err(err(
            format!("{BASE}.listenerPath"),
            "is required when SCMP_ACT_NOTIFY is used",
        ));
    }

    Ok(Profile {
        default_action,
        default_errno_ret,
        architectures,
        flags,
        flags_given,
        listener_path,
        listener_metadata,
        rules,
    })
}
