//! Release builds embed the dashboard from `ui/dist/dashboard`; rebuild the server whenever
//! `make ui` writes a new one (new hashed file names would otherwise go unnoticed).

fn main() {
    println!("cargo:rerun-if-changed=../../ui/dist/dashboard");
    println!("cargo:rerun-if-changed=build.rs");
}
