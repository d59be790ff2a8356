//! Builds the wasm bundles, the wall's, the field page's and the seat page's, and prepares them
//! for embedding in the `gridwall` binary.
//!
//! A plain `cargo build` of the backend runs one nested `cargo build` of the `frontend`,
//! `field` and `seat` crates for wasm32 (in `target/wasm`, so that it never contends with the outer
//! build's lock), runs wasm-bindgen as a library on each, gzips the results, and leaves them
//! in `OUT_DIR/pkg` where `src/assets.rs` includes them.
//!
//! There is deliberately no `wasm-opt` pass: Debian's binaryen (version 108) rewrites the
//! externref table that wasm-bindgen sets up, and the wall then fails to start in Chromium
//! ("WebAssembly.Table.set(): Argument 1 is invalid for table"). The `wasm-release` profile
//! (opt-level "z", LTO, one codegen unit) already keeps the bundle small.

use std::env;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "wasm-release";
/// The wasm binaries built, each into `OUT_DIR/pkg/{name}.js` and `{name}_bg.wasm`.
const PACKAGES: [&str; 3] = ["frontend", "field", "seat"];

fn main() {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("the backend lives inside the workspace")
        .to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for input in [
        "frontend/src",
        "frontend/Cargo.toml",
        "field/src",
        "field/Cargo.toml",
        "seat/src",
        "seat/Cargo.toml",
        "shared/src",
        "shared/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
        // `sqlx::migrate!` embeds the migrations: a new one must rebuild the crate.
        "backend/migrations",
    ] {
        println!("cargo::rerun-if-changed={}", root.join(input).display());
    }

    let pkg = out_dir.join("pkg");
    fs::create_dir_all(&pkg).expect("create OUT_DIR/pkg");
    // A fuzzing build (cargo-fuzz sets `--cfg fuzzing`) only calls the parsers: it serves no
    // pages, and its nightly toolchain has no wasm32 target. The bundles are left empty.
    if env::var_os("CARGO_CFG_FUZZING").is_some() {
        for name in PACKAGES {
            for file in [".js", ".js.gz", "_bg.wasm", "_bg.wasm.gz"] {
                fs::write(pkg.join(format!("{name}{file}")), b"")
                    .unwrap_or_else(|err| panic!("write an empty {name}{file}: {err}"));
            }
        }
        return;
    }
    check_wasm_target();
    let wasm_dir = build_wasm(&root);
    for name in PACKAGES {
        let wasm = wasm_dir.join(format!("{name}.wasm"));
        wasm_bindgen_cli_support::Bindgen::new()
            .input_path(&wasm)
            .web(true)
            .expect("wasm-bindgen accepts the web target")
            .omit_default_module_path(false)
            .typescript(false)
            .generate(&pkg)
            .unwrap_or_else(|err| panic!("wasm-bindgen failed on {}: {err:#}", wasm.display()));
        strip_names(&pkg.join(format!("{name}_bg.wasm")));
        gzip(
            &pkg.join(format!("{name}_bg.wasm")),
            &pkg.join(format!("{name}_bg.wasm.gz")),
        );
        gzip(
            &pkg.join(format!("{name}.js")),
            &pkg.join(format!("{name}.js.gz")),
        );
    }
}

/// Drops the `name` custom section (every function's name, for debuggers: about 550 KB of the
/// wall's bundle) from a module that wasm-bindgen has finished with; the code is unchanged.
fn strip_names(path: &Path) {
    let wasm = fs::read(path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()));
    let stripped = without_name_section(&wasm)
        .unwrap_or_else(|| panic!("{} is not a WebAssembly module", path.display()));
    fs::write(path, stripped).unwrap_or_else(|err| panic!("write {}: {err}", path.display()));
}

/// An unsigned LEB128 number at `at`, and the position after it.
fn leb128(bytes: &[u8], mut at: usize) -> Option<(usize, usize)> {
    let (mut value, mut shift) = (0usize, 0);
    loop {
        let byte = *bytes.get(at)?;
        at += 1;
        value |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some((value, at));
        }
        shift += 7;
        if shift > 35 {
            return None;
        }
    }
}

/// The module with every section copied as it is, except a custom section named `name`.
fn without_name_section(wasm: &[u8]) -> Option<Vec<u8>> {
    if wasm.get(..4)? != b"\0asm" {
        return None;
    }
    let mut out = wasm.get(..8)?.to_vec();
    let mut at = 8;
    while at < wasm.len() {
        let id = wasm[at];
        let (size, body) = leb128(wasm, at + 1)?;
        let end = body.checked_add(size).filter(|&e| e <= wasm.len())?;
        let is_names = id == 0
            && leb128(wasm, body)
                .and_then(|(len, name)| wasm.get(name..name + len))
                .is_some_and(|name| name == b"name");
        if !is_names {
            out.extend_from_slice(&wasm[at..end]);
        }
        at = end;
    }
    Some(out)
}

/// Fails the build with the command to run when the wasm32 standard library is missing.
fn check_wasm_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(sysroot) = sysroot
        && !sysroot.join("lib/rustlib").join(WASM_TARGET).exists()
    {
        panic!(
            "\n\nThe wall is compiled to WebAssembly, and this toolchain lacks the target.\n\
             Run:\n\n    rustup target add {WASM_TARGET}\n\nthen build again.\n\n"
        );
    }
}

/// Runs the one nested cargo build of every package in [`PACKAGES`] and returns the directory
/// that holds their `.wasm` files.
fn build_wasm(root: &Path) -> PathBuf {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let target_dir = root.join("target").join("wasm");
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root).arg("build");
    for name in PACKAGES {
        cmd.args(["--package", name]);
    }
    cmd.args([
        "--target",
        WASM_TARGET,
        "--profile",
        PROFILE,
        "--target-dir",
    ]);
    cmd.arg(&target_dir);
    // The outer build's variables describe the backend's build, not this one: flags such as
    // CARGO_ENCODED_RUSTFLAGS or clippy's RUSTC_WORKSPACE_WRAPPER would leak into the wasm
    // build and break or slow it. Keep only what says where cargo's home and registries are.
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let keep = key == "CARGO_HOME"
            || key.starts_with("CARGO_NET_")
            || key.starts_with("CARGO_HTTP_")
            || key.starts_with("CARGO_REGISTRIES_")
            || key.starts_with("CARGO_REGISTRY_");
        let build_var = key.starts_with("CARGO_")
            || key.starts_with("RUSTC")
            || key.starts_with("RUSTDOC")
            || key == "RUSTFLAGS"
            || key == "DEBUG"
            || key == "OPT_LEVEL"
            || key == "PROFILE"
            || key == "TARGET"
            || key == "HOST"
            || key == "OUT_DIR"
            || key == "NUM_JOBS";
        if build_var && !keep {
            cmd.env_remove(key);
        }
    }
    let status = cmd
        .status()
        .unwrap_or_else(|err| panic!("could not run cargo for the wasm bundles: {err}"));
    if !status.success() {
        panic!(
            "building the wasm bundles for {WASM_TARGET} failed ({status}); see the errors above"
        );
    }
    target_dir.join(WASM_TARGET).join(PROFILE)
}

fn gzip(input: &Path, output: &Path) {
    let bytes = fs::read(input).unwrap_or_else(|err| panic!("read {}: {err}", input.display()));
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&bytes).expect("gzip in memory");
    let gz = encoder.finish().expect("gzip in memory");
    fs::write(output, gz).unwrap_or_else(|err| panic!("write {}: {err}", output.display()));
}
