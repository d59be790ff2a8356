//! The JSON bodies of a login, a report and a move.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| backend::fuzzing::json_body(data));
