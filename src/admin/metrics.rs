//! `GET /__admin/metrics`: the Prometheus text format (version 0.0.4) of what a shared recmock is doing —
//! requests by vendor, route pattern and status with latency histograms (counted by the front door,
//! [`crate::http::metrics`]), callbacks by state, entities and files by vendor, the bounded stores against
//! their limits, and the process's memory.
//!
//! Every series is bounded: routes are the fixed set the server registered (requests no route serves count
//! as one pattern), statuses per route are capped, vendors and entity kinds are fixed, and files whose
//! owner names no vendor (only a hand-made state dump has those) count as `other`.

use crate::app::Emulator;
use crate::http::metrics::{RouteStats, BUCKETS_US};
use crate::outbox::{CallbackState, MAX_IN_FLIGHT};
use crate::VendorKind;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The `Content-Type` of the answer.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The whole exposition.
pub fn render(app: &Emulator) -> String {
    let mut out = Text(String::with_capacity(16 * 1024));
    out.family("recmock_build_info", "gauge", "recmock's version (always 1)");
    out.sample("recmock_build_info", &[("version", crate::VERSION)], 1u64);
    requests(&mut out, &app.door.routes.stats());
    callbacks(&mut out, app);
    entities(&mut out, app);
    files(&mut out, app);
    stores(&mut out, app);
    out.family("recmock_virtual_time_seconds", "gauge", "the virtual clock, unix seconds");
    out.sample("recmock_virtual_time_seconds", &[], app.world.clock.now_ms() as f64 / 1000.0);
    out.family("recmock_scheduled_jobs", "gauge", "jobs waiting on the virtual clock");
    out.sample("recmock_scheduled_jobs", &[], app.world.scheduler.len());
    out.family("recmock_websockets_open", "gauge", "open WebSockets (the HST event gateway)");
    out.sample("recmock_websockets_open", &[], app.door.sockets.count());
    process(&mut out);
    out.0
}

fn requests(out: &mut Text, routes: &[std::sync::Arc<RouteStats>]) {
    // Only routes that were asked: a family with every route at 0 would be ~1,000 lines of zeros.
    let asked: Vec<&RouteStats> = routes.iter().map(|r| &**r).filter(|r| r.requests() > 0).collect();
    fn labels(r: &RouteStats) -> [(&'static str, &str); 3] {
        [("vendor", r.vendor.map_or("", VendorKind::as_str)), ("method", &r.method), ("route", &r.route)]
    }
    out.family(
        "recmock_requests_total",
        "counter",
        "requests answered, by vendor, method, route pattern and status (status `dropped`: a fault rule \
         broke the connection; `other`: statuses beyond the 12 a route keeps apart)",
    );
    for r in &asked {
        for (status, n) in r.statuses() {
            let status = match status {
                Some(0) => "dropped".to_string(),
                Some(s) => s.to_string(),
                None => "other".to_string(),
            };
            let [v, m, p] = labels(r);
            out.sample("recmock_requests_total", &[v, m, p, ("status", &status)], n);
        }
    }
    out.family(
        "recmock_request_duration_seconds",
        "histogram",
        "time from a request's arrival to its answer's head, by vendor, method and route pattern",
    );
    for r in &asked {
        let h = r.histogram();
        let [v, m, p] = labels(r);
        for (bound, n) in BUCKETS_US.iter().zip(&h.cumulative) {
            let le = (*bound as f64 / 1e6).to_string();
            out.sample("recmock_request_duration_seconds_bucket", &[v, m, p, ("le", &le)], n);
        }
        out.sample("recmock_request_duration_seconds_bucket", &[v, m, p, ("le", "+Inf")], h.count);
        out.sample("recmock_request_duration_seconds_sum", &[v, m, p], h.sum_s);
        out.sample("recmock_request_duration_seconds_count", &[v, m, p], h.count);
    }
}

fn callbacks(out: &mut Text, app: &Emulator) {
    let (counts, _, _) = app.world.outbox.tally();
    out.family(
        "recmock_callbacks",
        "gauge",
        "callbacks in the outbox by vendor and state (held: no URL yet; pending: waiting for an attempt)",
    );
    for v in app.vendors() {
        for state in CallbackState::ALL {
            let n = counts.get(&(v.kind(), state)).copied().unwrap_or(0);
            out.sample("recmock_callbacks", &[("vendor", v.kind().as_str()), ("state", state.as_str())], n);
        }
    }
}

fn entities(out: &mut Text, app: &Emulator) {
    out.family(
        "recmock_entities",
        "gauge",
        "entities by vendor and kind (tenants, tasks, classes, users, ...)",
    );
    for v in app.vendors() {
        for (kind, n) in v.entity_counts() {
            out.sample("recmock_entities", &[("vendor", v.kind().as_str()), ("kind", kind)], n);
        }
    }
}

fn files(out: &mut Text, app: &Emulator) {
    let mut by_vendor: BTreeMap<&str, (u64, u64)> =
        app.vendors().iter().map(|v| (v.kind().as_str(), (0, 0))).collect();
    for (owner, (n, bytes)) in app.world.files.tally() {
        let key = VendorKind::all().iter().find(|k| k.as_str() == owner).map_or("other", |k| k.as_str());
        let e = by_vendor.entry(key).or_default();
        e.0 += n;
        e.1 += bytes;
    }
    out.family("recmock_files", "gauge", "recorded files by vendor");
    for (v, (n, _)) in &by_vendor {
        out.sample("recmock_files", &[("vendor", v)], *n);
    }
    out.family(
        "recmock_file_bytes",
        "gauge",
        "the size of the recorded files by vendor (made on demand, not held)",
    );
    for (v, (_, bytes)) in &by_vendor {
        out.sample("recmock_file_bytes", &[("vendor", v)], *bytes);
    }
}

/// The bounded stores: how full each is, against its limit.
fn stores(out: &mut Text, app: &Emulator) {
    let (_, delivered, undelivered) = app.world.outbox.tally();
    let journal = &app.door.journal;
    let limits = &app.world.caps.limits;
    let stores: [(&str, usize, usize); 7] = [
        ("journal_entries", journal.len(), journal.capacity()),
        ("journal_bytes", journal.bytes(), limits.journal_bytes),
        ("outbox_delivered", delivered, limits.delivered_callbacks),
        ("outbox_undelivered", undelivered, limits.undelivered_callbacks),
        ("outbox_in_flight", app.world.outbox.in_flight(), MAX_IN_FLIGHT),
        ("fault_rules", app.faults.len(), limits.fault_rules),
        ("ui_streams", app.ui_streams.load(std::sync::atomic::Ordering::Relaxed), limits.ui_streams),
    ];
    out.family("recmock_store_size", "gauge", "how much a bounded store holds (see recmock_store_limit)");
    for (store, size, _) in stores {
        out.sample("recmock_store_size", &[("store", store)], size);
    }
    out.family("recmock_store_limit", "gauge", "the most a bounded store holds (--journal-size, ...)");
    for (store, _, limit) in stores {
        out.sample("recmock_store_limit", &[("store", store)], limit);
    }
    out.family("recmock_journal_entries", "gauge", "requests in the journal (GET /__admin/requests)");
    out.sample("recmock_journal_entries", &[], journal.len());
    out.family("recmock_outbox_callbacks", "gauge", "callbacks in the outbox, in every state");
    out.sample("recmock_outbox_callbacks", &[], app.world.outbox.len());
}

/// The process's memory, CPU and files, as Prometheus client libraries name them (Linux: from /proc).
fn process(out: &mut Text) {
    let Some(p) = ProcessStats::read() else { return };
    out.family("process_resident_memory_bytes", "gauge", "resident memory size in bytes");
    out.sample("process_resident_memory_bytes", &[], p.resident_bytes);
    out.family("process_virtual_memory_bytes", "gauge", "virtual memory size in bytes");
    out.sample("process_virtual_memory_bytes", &[], p.virtual_bytes);
    out.family("process_cpu_seconds_total", "counter", "user and system CPU time spent, in seconds");
    out.sample("process_cpu_seconds_total", &[], p.cpu_seconds);
    out.family(
        "process_start_time_seconds",
        "gauge",
        "start time of the process since the unix epoch, in seconds",
    );
    out.sample("process_start_time_seconds", &[], p.start_time_seconds);
    out.family("process_open_fds", "gauge", "open file descriptors");
    out.sample("process_open_fds", &[], p.open_fds);
    out.family("process_max_fds", "gauge", "the most file descriptors the process may open");
    out.sample("process_max_fds", &[], p.max_fds);
}

/// What /proc says about this process.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessStats {
    /// resident set size, bytes
    pub resident_bytes: u64,
    /// virtual memory size, bytes
    pub virtual_bytes: u64,
    /// user + system CPU, seconds
    pub cpu_seconds: f64,
    /// unix seconds the process started at
    pub start_time_seconds: f64,
    /// open file descriptors
    pub open_fds: u64,
    /// the soft limit of open files
    pub max_fds: u64,
}

impl ProcessStats {
    /// This process's numbers; `None` where there is no /proc.
    pub fn read() -> Option<ProcessStats> {
        // SAFETY: sysconf only reads a configuration value.
        let (page, ticks) = unsafe { (libc::sysconf(libc::_SC_PAGESIZE), libc::sysconf(libc::_SC_CLK_TCK)) };
        let (page, ticks) = (u64::try_from(page).ok()?.max(1), u64::try_from(ticks).ok()?.max(1) as f64);
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The fields after the command name (which may hold spaces and parentheses: split after the last `)`).
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
        let (utime, stime, start, vsize, rss) = (field(14)?, field(15)?, field(22)?, field(23)?, field(24)?);
        let boot = std::fs::read_to_string("/proc/stat").ok().and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|b| b.trim().parse::<u64>().ok())
        })?;
        let open_fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64);
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit only writes the struct it is given.
        let max_fds =
            if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 { limit.rlim_cur } else { 0 };
        Some(ProcessStats {
            resident_bytes: rss * page,
            virtual_bytes: vsize,
            cpu_seconds: (utime + stime) as f64 / ticks,
            start_time_seconds: boot as f64 + start as f64 / ticks,
            open_fds,
            max_fds,
        })
    }
}

/// The exposition being written.
struct Text(String);

impl Text {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {}", help.replace('\\', "\\\\").replace('\n', "\\n"));
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Into<Number>) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"");
                for c in v.chars() {
                    match c {
                        '\\' => self.0.push_str("\\\\"),
                        '"' => self.0.push_str("\\\""),
                        '\n' => self.0.push_str("\\n"),
                        c => self.0.push(c),
                    }
                }
                self.0.push('"');
            }
            self.0.push('}');
        }
        let _ = match value.into() {
            Number::Int(n) => writeln!(self.0, " {n}"),
            Number::Float(f) => writeln!(self.0, " {f}"),
        };
    }
}

/// A sample's value.
enum Number {
    Int(u64),
    Float(f64),
}

impl From<u64> for Number {
    fn from(n: u64) -> Self {
        Number::Int(n)
    }
}

impl From<&u64> for Number {
    fn from(n: &u64) -> Self {
        Number::Int(*n)
    }
}

impl From<usize> for Number {
    fn from(n: usize) -> Self {
        Number::Int(n as u64)
    }
}

impl From<f64> for Number {
    fn from(f: f64) -> Self {
        Number::Float(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_numbers_written_plainly() {
        let mut t = Text(String::new());
        t.family("x_total", "counter", "a \\ help\nline");
        t.sample("x_total", &[("a", "q\"b\\c\nd"), ("b", "")], 3u64);
        t.sample("y", &[], 0.25);
        assert_eq!(
            t.0,
            "# HELP x_total a \\\\ help\\nline\n# TYPE x_total counter\nx_total{a=\"q\\\"b\\\\c\\nd\",b=\"\"} 3\ny 0.25\n"
        );
    }

    #[test]
    fn this_process_is_read_from_proc() {
        let p = ProcessStats::read().expect("Linux has /proc");
        assert!(p.resident_bytes > 1 << 20, "{p:?}");
        assert!(p.virtual_bytes >= p.resident_bytes, "{p:?}");
        assert!(p.open_fds > 0 && p.max_fds >= p.open_fds, "{p:?}");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        assert!(p.start_time_seconds <= now + 1.0 && p.start_time_seconds > now - 86_400.0 * 365.0, "{p:?}");
    }
}
