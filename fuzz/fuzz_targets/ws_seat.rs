//! A seat's message on `/ws/seat` (`SeatMsg`), carried out on a control table.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| backend::fuzzing::ws_seat(data));
