//! The `argon2` scenario: raw Argon2id hashes on this thread (one core under `taskset`), with
//! the server's parameters, so password logins can be compared with what hashing alone allows.

use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, Version};

use crate::runner::{CpuSample, Measured};

/// Argon2id cost parameters (the server's defaults: 19 MiB, 2 passes, 1 lane).
#[derive(Clone, Copy, Debug)]
pub struct Cost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

/// Hashes for `warmup` (not counted) and then for `window`, one hash at a time.
pub fn run(cost: Cost, warmup: Duration, window: Duration) -> Result<Measured, String> {
    let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, Some(32))
        .map_err(|e| format!("invalid Argon2 parameters: {e}"))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = *b"bench-salt-16byt";
    let mut out = [0u8; 32];
    let mut hash = |i: u64| -> Result<(), String> {
        let password = format!("Gosuslugi-2026!{i}");
        argon
            .hash_password_into(password.as_bytes(), &salt, &mut out)
            .map_err(|e| format!("Argon2 failed: {e}"))
    };
    let start = Instant::now();
    let mut i = 0u64;
    while start.elapsed() < warmup {
        hash(i)?;
        i += 1;
    }
    let before = CpuSample::take(&[]);
    let from = Instant::now();
    let end = from + window;
    let mut latencies_us = Vec::new();
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            break;
        }
        hash(i)?;
        i += 1;
        let t1 = Instant::now();
        if t1 > end {
            break;
        }
        latencies_us.push(u32::try_from(t1.duration_since(t0).as_micros()).unwrap_or(u32::MAX));
    }
    let usage = before.usage_until(&CpuSample::take(&[]));
    let by_op = [(
        crate::mix::Op::Argon2,
        crate::runner::Tally {
            latencies_us: latencies_us.clone(),
            errors: 0,
        },
    )]
    .into();
    Ok(Measured {
        latencies_us,
        errors: 0,
        first_error: None,
        window,
        server_cpu: None,
        loadgen_cpu: usage.own,
        other_cpu: usage.other,
        backing_cpu: None,
        by_op,
    })
}
