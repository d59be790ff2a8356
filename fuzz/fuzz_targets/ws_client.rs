//! A wall's message on `/ws` (`ClientMsg`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| backend::fuzzing::ws_client(data));
