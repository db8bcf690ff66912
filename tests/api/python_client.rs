//! The Python client (`clients/python`), installed with pip as a user would, runs its own tests
//! against the real binary.

use std::process::Command;

#[test]
fn the_python_client_installs_and_passes_its_tests_against_the_real_server() {
    let root = env!("CARGO_MANIFEST_DIR");
    let target = tempfile::tempdir().unwrap();
    // A copy of the package, so that building it leaves nothing in the working tree.
    let source = target.path().join("source");
    let copied = Command::new("cp").args(["-r", &format!("{root}/clients/python")]).arg(&source).status().unwrap();
    assert!(copied.success());
    let installed = target.path().join("site");
    let pip = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target"])
        .arg(&installed)
        .arg(&source)
        .output()
        .expect("python3 runs pip");
    assert!(pip.status.success(), "pip install failed:\n{}", String::from_utf8_lossy(&pip.stderr));
    let tests = Command::new("python3")
        .args(["-m", "unittest", "discover", "-v", "-s"])
        .arg(source.join("tests"))
        .current_dir(target.path())
        .env("PYTHONPATH", &installed)
        .env("LINEAGE_BIN", env!("CARGO_BIN_EXE_lineage"))
        .output()
        .expect("python3 runs the tests");
    let report = String::from_utf8_lossy(&tests.stderr);
    assert!(tests.status.success(), "the Python client's tests failed:\n{report}");
    assert!(report.contains("Ran 7 tests"), "{report}");
    // The tests ran the installed package, not the source folder.
    assert!(installed.join("lineage_client/client.py").exists());
}
