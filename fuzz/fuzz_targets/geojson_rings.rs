//! The GeoJSON import with the bytes read as a polygon's positions: geometry rather than text.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| backend::fuzzing::geojson_rings(data));
