//! The init binary's entry point.
pub fn main() -> i32 {
    0
}
