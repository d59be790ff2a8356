//! `GET /open311/v2/requests.{format}`: the query string.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| backend::fuzzing::open311_query(data));
