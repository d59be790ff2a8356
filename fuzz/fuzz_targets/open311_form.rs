//! `POST /open311/v2/requests.{format}`: the form body, then the query string after a NUL byte.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| backend::fuzzing::open311_form(data));
