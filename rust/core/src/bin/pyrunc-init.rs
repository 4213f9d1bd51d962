//! The container init: `pyrunc-init <plan-fd>`. Never run by hand; the
//! extension fexecve()s it from a sealed memfd (see rust/build.rs).
fn main() {
    std::process::exit(pyrunc_core::init::main());
}
