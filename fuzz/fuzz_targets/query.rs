//! The query strings of the API's routes, each through its own type and checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| backend::fuzzing::query(data));
