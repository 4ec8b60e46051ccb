//! Any text must parse to a tree or to an error, never panic or hang; and
//! whatever comes out must print (PN, JSON) or render (the error).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match granule_parser::parse(text) {
        Ok(program) => {
            let _ = granule_parser::pn::to_pn(&program);
            let _ = granule_parser::pn::to_json(&program);
        }
        Err(error) => {
            let _ = error.render("fuzz.pp", text);
        }
    }
});
