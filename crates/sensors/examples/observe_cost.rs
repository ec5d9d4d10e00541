//! Measures what one `observe()` costs on a real X display (Xvfb + openbox from the testkit):
//! wall time per call, CPU time per call, and the process's resident memory.
//!
//! Run: `cargo run --release -p worktrace-sensors --example observe_cost [calls]`

#[cfg(target_os = "linux")]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    use std::time::Instant;
    use worktrace_sensors::x11::X11Sensor;
    use worktrace_sensors::Sensor;

    let calls: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5000);
    let x = worktrace_testkit::XSession::start()?;
    let term = x.spawn_xterm("Cost Terminal")?;
    let report = x.spawn_window("costapp", "Отчёт — Q3.xlsx")?;
    let mut sensor = X11Sensor::connect(Some(x.display()))?;

    for (name, w) in [("xterm (WM_NAME)", &term), ("UTF-8 window", &report)] {
        x.activate(w)?;
        // Warm up: the first reading also probes D-Bus for a lock service.
        sensor.observe()?;
        let cpu0 = cpu_seconds();
        let t0 = Instant::now();
        for _ in 0..calls {
            sensor.observe()?;
        }
        let wall = t0.elapsed().as_secs_f64() * 1e6 / f64::from(calls);
        let cpu = (cpu_seconds() - cpu0) * 1e6 / f64::from(calls);
        println!(
            "{name:16} {calls} calls: {wall:7.1} µs/call wall, {cpu:7.1} µs/call CPU \
             (= {:.4}% of one core at 1 reading/s)",
            cpu / 1e4
        );
    }
    println!(
        "RSS {} kB (this example: sensor + testkit + test window)",
        rss_kb()
    );
    Ok(())
}

/// User + system CPU time of this process, from /proc/self/stat (clock ticks of 1/100 s).
#[cfg(target_os = "linux")]
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

#[cfg(target_os = "linux")]
fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("observe_cost measures the X11 sensor and runs on Linux only");
}
