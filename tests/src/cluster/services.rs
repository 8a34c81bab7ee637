//! The services a test deployment runs on, as private processes on loopback: a PostgreSQL
//! cluster in a temporary folder, a Redis without persistence, and a Redis Cluster. Each is
//! stopped when dropped; the machine's own PostgreSQL (5432) and Redis (6379) are never used.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Process, TempDir, free_port};

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn pg_bin(name: &str) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin").join(name))
                .collect()
        })
        .unwrap_or_default();
    found.retain(|p| p.exists());
    found.sort();
    found.pop().unwrap_or_else(|| PathBuf::from(name))
}

/// Runs a PostgreSQL tool, as the `postgres` user when we are root (PostgreSQL refuses root).
fn pg_command(name: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(pg_bin(name));
        c
    } else {
        Command::new(pg_bin(name))
    }
}

/// A private PostgreSQL cluster in a temporary folder on its own port.
pub struct Postgres {
    pub port: u16,
    data: PathBuf,
    _dir: TempDir,
}

impl Postgres {
    pub fn start() -> Postgres {
        let dir = TempDir::new("pg");
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir.0)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown of the PostgreSQL folder failed");
        }
        let data = dir.0.join("data");
        let out = pg_command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
            .output()
            .expect("initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pg = Postgres {
            port: free_port(),
            data,
            _dir: dir,
        };
        pg.up();
        pg
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl start -w`: returns once it accepts connections.
    pub fn up(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60",
            self.port,
            self.data.display()
        );
        let out = pg_command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-o", &opts, "-l"])
            .arg(self.data.join("server.log"))
            .args(["-w", "-t", "60", "start"])
            .output()
            .expect("pg_ctl start");
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            std::fs::read_to_string(self.data.join("server.log")).unwrap_or_default()
        );
    }

    /// `pg_ctl stop -m fast`: open connections are closed, as in a restart for maintenance.
    pub fn down(&self) {
        let _ = pg_command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "stop"])
            .output();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = pg_command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// A private Redis without persistence (as the provider expects: Redis holds nothing durable).
pub struct Redis {
    pub port: u16,
    process: Mutex<Process>,
    dir: TempDir,
}

impl Redis {
    pub fn start() -> Redis {
        let dir = TempDir::new("redis");
        let port = free_port();
        let process = Mutex::new(Self::spawn(port, &dir.0));
        Redis { port, process, dir }
    }

    fn spawn(port: u16, dir: &Path) -> Process {
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir);
        let p = Process::spawn("redis-server", cmd, dir.join("redis.log"));
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        p
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// SIGKILL: what it held is lost.
    pub fn down(&self) {
        self.process
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .kill();
    }

    /// A fresh, empty Redis on the same port.
    pub fn up(&self) {
        let fresh = Self::spawn(self.port, &self.dir.0);
        *self.process.lock().unwrap_or_else(|e| e.into_inner()) = fresh;
    }
}

/// A private Redis Cluster on loopback: `masters` masters with `replicas` replicas each, made
/// with `redis-cli --cluster create` (no persistence, node timeout 2 s so a failover takes
/// seconds). Each node's cluster bus has its own free port (`cluster-port`). Killed on drop.
pub struct RedisCluster {
    /// The client port of each node, in start order (masters first as created).
    pub ports: Vec<u16>,
    nodes: Vec<Process>,
    _dir: TempDir,
}

impl RedisCluster {
    pub fn start(masters: usize) -> RedisCluster {
        Self::start_with_replicas(masters, 0)
    }

    pub fn start_with_replicas(masters: usize, replicas: usize) -> RedisCluster {
        let dir = TempDir::new("redis-cluster");
        let count = masters * (1 + replicas);
        let ports: Vec<u16> = (0..count).map(|_| free_port()).collect();
        let nodes = ports
            .iter()
            .map(|&port| Self::spawn(port, &dir.0))
            .collect();
        let mut create = Command::new("redis-cli");
        create.args(["--cluster", "create"]);
        create.args(ports.iter().map(|p| format!("127.0.0.1:{p}")));
        create.args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"]);
        let out = create.output().expect("redis-cli --cluster create");
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let cluster = RedisCluster {
            ports,
            nodes,
            _dir: dir,
        };
        cluster.wait_ok(Duration::from_secs(30));
        cluster
    }

    fn spawn(port: u16, dir: &Path) -> Process {
        let bus = free_port();
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--cluster-enabled",
                "yes",
                "--cluster-port",
                &bus.to_string(),
            ])
            .arg("--cluster-config-file")
            .arg(dir.join(format!("nodes-{port}.conf")))
            .args(["--cluster-node-timeout", "2000"])
            .args(["--repl-diskless-sync-delay", "0"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir);
        let p = Process::spawn(
            &format!("redis-server :{port}"),
            cmd,
            dir.join(format!("redis-{port}.log")),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server :{port} did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        p
    }

    /// The seed list for `cache.url` (every node).
    pub fn seeds(&self) -> String {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `redis-cli -p PORT ARGS…`, its standard output ("" when the node is down).
    pub fn cli(&self, port: u16, args: &[&str]) -> String {
        Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// Waits until every live node reports `cluster_state:ok` and every live replica has
    /// synced with its master (a replica that never synced cannot be promoted).
    pub fn wait_ok(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let states: Vec<String> = self
                .live_ports()
                .into_iter()
                .map(|p| self.cli(p, &["cluster", "info"]))
                .collect();
            let synced = self.live_ports().into_iter().all(|p| {
                let info = self.cli(p, &["info", "replication"]);
                info.contains("role:master") || info.contains("master_link_status:up")
            });
            if synced && states.iter().all(|s| s.contains("cluster_state:ok")) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Redis Cluster not ok: {states:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Ports of the nodes still running.
    pub fn live_ports(&self) -> Vec<u16> {
        self.ports
            .iter()
            .zip(&self.nodes)
            .filter(|(_, n)| n.is_running())
            .map(|(p, _)| *p)
            .collect()
    }

    /// Ports of the live nodes that are masters now (`ROLE`).
    pub fn masters(&self) -> Vec<u16> {
        self.live_ports()
            .into_iter()
            .filter(|&p| self.cli(p, &["role"]).starts_with("master"))
            .collect()
    }

    /// Keys held by the node on `port` (`DBSIZE`).
    pub fn dbsize(&self, port: u16) -> u64 {
        self.cli(port, &["dbsize"]).trim().parse().unwrap_or(0)
    }

    /// SIGKILL of the node on `port`.
    pub fn kill(&self, port: u16) {
        if let Some(i) = self.ports.iter().position(|&p| p == port) {
            self.nodes[i].kill();
        }
    }
}
