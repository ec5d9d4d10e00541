//! Build script: lets tauri-build read tauri.conf.json, the icons and the capabilities.
fn main() {
    tauri_build::build()
}
