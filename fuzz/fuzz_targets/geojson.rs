//! `gridwall import grids FILE`: a GeoJSON FeatureCollection of grids.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| backend::fuzzing::geojson(data));
