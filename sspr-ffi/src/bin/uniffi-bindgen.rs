//! The uniffi binding generator, pinned to the library's uniffi version.
//!
//! After uniffi's own generation, the Kotlin it wrote is mended (THREAT_MODEL R.42): uniffi's
//! Kotlin catches only `kotlin.Exception` around a call of a Kotlin backend, so a backend that
//! throws an `Error` (`TODO()`, an `AssertionError`, a `StackOverflowError`) left its call
//! without an answer (a `suspend` method: the engine waited out its backend timeout and
//! reported the backend unavailable; a plain one: JNA returned nothing and the call read as a
//! success). Here the four helpers that run a Kotlin backend's method catch `Throwable`, so such
//! a failure reaches the engine at once as the backend's failure, naming what was thrown.

#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};

/// What uniffi 0.32's Kotlin helpers around a foreign method catch, and what they catch here.
const CATCH_EXCEPTION: &str = "catch(e: kotlin.Exception)";
const CATCH_THROWABLE: &str = "catch(e: kotlin.Throwable)";
/// The helpers that hold it (`uniffiTraitInterfaceCall`, `...WithError`, `...Async`,
/// `...AsyncWithError`): each catches once, and nothing else in the file does.
const HELPERS: usize = 4;

fn main() {
    uniffi::uniffi_bindgen_main();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = mend_kotlin(&args) {
        eprintln!("uniffi-bindgen (sspr): {e}");
        std::process::exit(1);
    }
}

/// The value of `--name VALUE`, `--name=VALUE` or `-s VALUE` in `args`.
fn option<'a>(args: &'a [String], long: &str, short: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == long || arg == short {
            if let Some(value) = it.next() {
                found.push(value.as_str());
            }
        } else if let Some(value) = arg.strip_prefix(long).and_then(|rest| rest.strip_prefix('=')) {
            found.push(value);
        }
    }
    found
}

/// Mend the Kotlin a `generate` call wrote (every language is generated when none is named).
fn mend_kotlin(args: &[String]) -> Result<(), String> {
    if args.first().map(String::as_str) != Some("generate") {
        return Ok(());
    }
    let languages = option(args, "--language", "-l");
    if !languages.is_empty() && !languages.contains(&"kotlin") {
        return Ok(());
    }
    let Some(out_dir) = option(args, "--out-dir", "-o").last().map(PathBuf::from) else { return Ok(()) };
    let mut files = Vec::new();
    kotlin_files(&out_dir, &mut files).map_err(|e| format!("reading {}: {e}", out_dir.display()))?;
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
        if !text.contains("uniffiTraitInterfaceCall") {
            continue;
        }
        let found = text.matches(CATCH_EXCEPTION).count();
        if found == 0 && text.matches(CATCH_THROWABLE).count() == HELPERS {
            continue; // mended already
        }
        if found != HELPERS {
            return Err(format!(
                "{}: {found} `{CATCH_EXCEPTION}` where uniffi 0.32.2 writes {HELPERS}: its Kotlin changed, \
                 see THREAT_MODEL R.42 before using it",
                file.display()
            ));
        }
        std::fs::write(&file, text.replace(CATCH_EXCEPTION, CATCH_THROWABLE))
            .map_err(|e| format!("writing {}: {e}", file.display()))?;
    }
    Ok(())
}

/// Every `.kt` file under `dir`.
fn kotlin_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            kotlin_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "kt") {
            out.push(path);
        }
    }
    Ok(())
}
