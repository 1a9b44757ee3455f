// Writes the task list each binary expands with scale_tasks!: N distinct async fns, one task type
// each. N comes from the environment so a bigger variant needs no source change.
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

fn count(var: &str, default: usize) -> usize {
    println!("cargo:rerun-if-env-changed={var}");
    match env::var(var) {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("{var}={v}: not a number of task types")),
        Err(_) => default,
    }
}

fn write_list(out: &Path, bin: &str, n: usize) {
    let width = n.saturating_sub(1).to_string().len().max(4);
    let mut s = String::from("scale_target::scale_tasks! {\n");
    for i in 0..n {
        writeln!(s, "    {i} => task_{i:0width$},").unwrap();
    }
    s.push_str("}\n");
    fs::write(out.join(format!("{bin}.rs")), s).expect("write the task list into OUT_DIR");
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out);
    write_list(out, "scale-target", count("TG_SCALE_TASKS", 1000));
    write_list(out, "scale-target-small", count("TG_SCALE_SMALL_TASKS", 100));
}
