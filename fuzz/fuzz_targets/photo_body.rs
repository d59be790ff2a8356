//! Reports and moves with photos: a multipart body (boundary `gridwall-fuzz`), and the photo sniffer.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| backend::fuzzing::photo_body(data));
