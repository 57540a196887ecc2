#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ntlm_fuzzing::gss(data));
