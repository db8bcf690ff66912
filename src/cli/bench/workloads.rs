//! The workloads of `lineage bench`, each recording its rows through one [`Bench`]: appends
//! (single events, under attack, batches), reads of a large project as of earlier points, the
//! flood, the restart after heavy entries, reads, and the memory run.

use super::*;

/// A prepared request: path, body, events in it.
pub(super) type Request = (String, Option<Vec<u8>>, usize);

/// What every workload needs: the server, its admin, and the rows recorded so far.
pub(super) struct Bench<'a> {
    pub url: String,
    pub token: String,
    pub client: Client,
    pub admin: Signer,
    pub run_id: String,
    /// The server's process, when the bench started it (its memory is then reported).
    pub pid: Option<u32>,
    pub rows: Vec<Row>,
    /// Numbers the events made so far, so that every id is new.
    pub counter: usize,
    pub options: &'a BenchOptions,
}

impl Bench<'_> {
    /// The server's peak resident memory so far, in MB.
    fn peak(&self) -> Option<f64> {
        self.pid.and_then(|p| status_kb(p, "VmHWM:")).map(|kb| kb / 1024.0)
    }

    /// Drives `requests` from `clients` threads and records the row.
    pub fn record(&mut self, workload: &str, clients: usize, requests: Vec<Request>) -> Result<(), String> {
        let n = requests.len();
        let (latencies, errors, events, seconds) = drive(&self.url, &self.token, clients, requests)?;
        let row = Row {
            workload: workload.to_owned(),
            clients,
            requests: n,
            events,
            errors,
            seconds,
            events_per_second: events as f64 / seconds,
            p50_ms: percentile(&latencies, 0.50),
            p95_ms: percentile(&latencies, 0.95),
            p99_ms: percentile(&latencies, 0.99),
            server_peak_rss_mb: self.peak(),
        };
        eprintln!(
            "{:<28} {:>4} clients {:>9.0} /s  p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  errors {}",
            row.workload, clients, row.events_per_second, row.p50_ms, row.p95_ms, row.p99_ms, row.errors
        );
        self.rows.push(row);
        Ok(())
    }

    /// `n` single generations into the setup's projects, the i-th into the project `project(i)`.
    fn singles(&mut self, s: &Setup, n: usize, project: impl Fn(usize) -> usize) -> Vec<Request> {
        (0..n)
            .map(|i| {
                self.counter += 1;
                ("/v1/events".to_owned(), Some(generation(s, &s.projects[project(i)], self.counter)), 1)
            })
            .collect()
    }

    /// `n / size` batches of `size` generations, the b-th into the project `project(b)`.
    fn batches(&mut self, s: &Setup, n: usize, size: usize, project: impl Fn(usize) -> usize) -> Vec<Request> {
        (0..n / size)
            .map(|b| {
                let envelopes: Vec<Vec<u8>> = (0..size)
                    .map(|_| {
                        self.counter += 1;
                        generation(s, &s.projects[project(b)], self.counter)
                    })
                    .collect();
                ("/v1/batches".to_owned(), Some(batch_body(&envelopes)), size)
            })
            .collect()
    }

    /// Single events (each client its own project, as parallel pipelines do), then under attack
    /// when asked, then batches of 10 and 100, at each client count.
    pub fn appends(&mut self) -> Result<(), String> {
        let options = self.options;
        for &clients in options.clients.iter().filter(|_| options.single_events + options.batch_events > 0) {
            let s = setup(&self.client, &self.admin, &format!("{}-{clients}", self.run_id), clients)?;
            let requests = self.singles(&s, options.single_events, |i| i % clients);
            self.record("append, single events", clients, requests.clone())?;
            if options.attack_clients > 0 {
                self.attacks(&s, clients, &requests)?;
            }
            for size in [10usize, 100] {
                let requests = self.batches(&s, options.batch_events, size, |b| b % clients);
                self.record(&format!("append, batches of {size}"), clients, requests)?;
            }
        }
        Ok(())
    }

    /// The same workload again, its events given new ids, while attackers without a key send
    /// batches of a thousand: well-formed events under the bootstrap admin's key id, every
    /// signature wrong; then 999 envelopes already in the log (the ones just appended, replayed
    /// as they are) and a forged one last; then 1,000 stored ones.
    fn attacks(&mut self, s: &Setup, clients: usize, appended: &[Request]) -> Result<(), String> {
        let attack_clients = self.options.attack_clients;
        let forged = batch_body(&forged_envelopes(&self.admin, &s.projects[0], 1000));
        let stored: Vec<Vec<u8>> = appended.iter().take(1000).filter_map(|(_, body, _)| body.clone()).collect();
        let mut replayed = stored[..stored.len().saturating_sub(1)].to_vec();
        replayed.extend(forged_envelopes(&self.admin, &s.projects[0], 1));
        let (replayed, stored) = (batch_body(&replayed), batch_body(&stored));
        for (attack, body) in [("forgers", forged), ("replayers", replayed), ("retriers", stored)] {
            let again = self.singles(s, self.options.single_events, |i| i % clients);
            let stop = std::sync::atomic::AtomicBool::new(false);
            let attack_started = std::time::Instant::now();
            let url = self.url.clone();
            let (honest, attacks) = std::thread::scope(|scope| {
                let attackers =
                    scope.spawn(|| hammer(&url, "", attack_clients, &[("/v1/batches".to_owned(), Some(body))], &stop));
                let workload = format!("append, single events, {attack_clients} {attack}");
                let honest = self.record(&workload, clients, again);
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                (honest, attackers.join().expect("attack threads"))
            });
            honest?;
            let attacks = attacks?.len();
            eprintln!(
                "{attack}' batches answered: {attacks} ({:.0}/s)",
                attacks as f64 / attack_started.elapsed().as_secs_f64()
            );
        }
        Ok(())
    }

    /// One large project, then health checks and single appends timed alone and while readers
    /// ask for it as of random earlier points.
    pub fn as_of(&mut self) -> Result<(), String> {
        let (readers_n, events) = (self.options.as_of_readers, self.options.as_of_events);
        let s = setup(&self.client, &self.admin, &format!("{}-asof", self.run_id), 4)?;
        let large = s.projects[0].clone();
        let head = |client: &Client| -> Result<u64, String> {
            Ok(client.get("/v1/head").map_err(|e| e.to_string())?.body["size"].as_u64().unwrap_or(0))
        };
        let first = head(&self.client)?;
        let batches = self.batches(&s, events, 100, |_| 0);
        self.record("append, the large project", 16, batches)?;
        let last = head(&self.client)?.max(1);
        let health: Vec<_> = (0..20000).map(|_| ("/healthz".to_owned(), None, 1)).collect();
        self.record("health, alone", 4, health.clone())?;
        let alone = self.singles(&s, 20000, |i| 1 + i % 3);
        self.record("append, single events alone", 16, alone)?;
        let spread = (last - first).max(1);
        let readers: Vec<(String, Option<Vec<u8>>)> = (0..64u64)
            .map(|i| {
                let at = first + (i * 7919) % spread;
                let path = if i % 2 == 0 { "status" } else { "history" };
                (format!("/v1/projects/{large}/{path}?as_of={at}"), None)
            })
            .collect();
        // The first query of the project folds it (once); the figures are of the queries after.
        let warm = self.client.get(&format!("/v1/projects/{large}/status")).map_err(|e| e.to_string())?;
        if !warm.ok() {
            return Err(format!("the large project's status: {} {}", warm.status, warm.body));
        }
        let stop = std::sync::atomic::AtomicBool::new(false);
        let with_readers = self.singles(&s, 20000, |i| 1 + i % 3);
        let (url, token) = (self.url.clone(), self.token.clone());
        let (health_row, append_row, reads) = std::thread::scope(|scope| {
            let readers = scope.spawn(|| hammer(&url, &token, readers_n, &readers, &stop));
            let health_row = self.record(&format!("health, {readers_n} as_of readers"), 4, health);
            let append_row =
                self.record(&format!("append, single events, {readers_n} as_of readers"), 16, with_readers);
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            (health_row, append_row, readers.join().expect("reader threads"))
        });
        health_row?;
        append_row?;
        let reads = reads?;
        eprintln!(
            "as_of reads of a {events}-event project: {} answered, p50 {:.0} ms, p99 {:.0} ms",
            reads.len(),
            percentile(&reads, 0.5),
            percentile(&reads, 0.99)
        );
        Ok(())
    }

    /// Single events of one organisation alone, then again while the members of another send
    /// the heaviest entries they may sign; the flooding members' answers are reported on stderr.
    pub fn flood(&mut self) -> Result<(), String> {
        let options = &self.options.flood;
        let clients = self.options.clients.last().copied().unwrap_or(64);
        let victims = setup(&self.client, &self.admin, &format!("{}-victim", self.run_id), clients)?;
        let alone = self.singles(&victims, self.options.single_events, |i| i % clients);
        let flooded = self.singles(&victims, self.options.single_events, |i| i % clients);
        let members = options.flood_members;
        let flood = flood::setup(&self.client, &self.admin, &self.run_id, members, options.flood_names)?;
        let (path, requests) =
            flood.requests(&self.client, options.flood_kind, options.flood_requests, options.flood_batch)?;
        self.record("append, single events, no flood", clients, alone)?;
        let stop = std::sync::atomic::AtomicBool::new(false);
        let started = std::time::Instant::now();
        let url = self.url.clone();
        let workload = match options.flood_kind {
            flood::FloodKind::Notes => format!(
                "append, single events, {members} members flooding ({} notes of {} names a request)",
                options.flood_batch, options.flood_names
            ),
            flood::FloodKind::Deliveries => {
                format!("append, single events, {members} members flooding (deliveries of the deepest lineage)")
            }
            flood::FloodKind::DeliveryBatches => {
                format!("append, single events, {members} members flooding (batches of 1,000 deliveries of it)")
            }
        };
        let (honest, poured) = std::thread::scope(|scope| {
            let flooders = scope.spawn(|| flood::pour(&url, path, &requests, &stop));
            let honest = self.record(&workload, clients, flooded);
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            (honest, flooders.join().expect("flooding threads"))
        });
        honest?;
        let poured = poured?;
        eprintln!(
            "flooding requests answered in {:.1} s: {:?} (status: count), p50 {:.0} ms, p99 {:.0} ms",
            started.elapsed().as_secs_f64(),
            poured.statuses,
            percentile(&poured.latencies, 0.5),
            percentile(&poured.latencies, 0.99)
        );
        Ok(())
    }

    /// How long two new servers take to start again after as many plain and heavy notes.
    pub fn restart(&self) -> Result<(), String> {
        let f = &self.options.flood;
        let [plain, heavy] = flood::restart_times(f.restart_entries, f.flood_names, f.flood_batch)?;
        eprintln!(
            "restart after {} notes: naming 1 asset {:.2} s ({:.0} MB), naming {} {:.2} s ({:.0} MB)",
            f.restart_entries,
            plain.0,
            plain.1 as f64 / 1e6,
            f.flood_names,
            heavy.0,
            heavy.1 as f64 / 1e6
        );
        Ok(())
    }

    /// Pages of a project stream and of the feed, inclusion proofs, the checkpoint.
    pub fn reads(&mut self) -> Result<(), String> {
        let size = self.client.get("/v1/head").map_err(|e| e.to_string())?.body["size"].as_u64().unwrap_or(1);
        let first = self.options.clients.first().copied().unwrap_or(1);
        let project = format!("bench-client-{}-{first}:bench-0", self.run_id);
        type PathOf = Box<dyn Fn(usize) -> String>;
        let reads: Vec<(&str, PathOf)> = vec![
            (
                "read, project stream page of 100",
                Box::new(move |i| format!("/v1/projects/{project}/events?after={}&limit=100", (i * 97) % 1000)),
            ),
            (
                "read, feed page of 100",
                Box::new(move |i| format!("/v1/entries?after={}&limit=100", (i as u64 * 7919) % size)),
            ),
            (
                "read, inclusion proof",
                Box::new(move |i| format!("/v1/proofs/inclusion?sequence={}", (i as u64 * 7919) % size)),
            ),
            ("read, checkpoint", Box::new(|_| "/v1/checkpoint".to_owned())),
        ];
        for (name, path) in reads.into_iter().filter(|_| self.options.reads > 0) {
            let requests: Vec<_> = (0..self.options.reads).map(|i| (path(i), None, 1)).collect();
            self.record(name, 16, requests)?;
        }
        Ok(())
    }

    /// `memory_events` generations in batches of 100 from 16 clients, then the server's memory.
    pub fn memory(&mut self) -> Result<Option<MemoryFigure>, String> {
        let target = self.options.memory_events;
        let s = setup(&self.client, &self.admin, &format!("{}-mem", self.run_id), 16)?;
        let mut appended = 0usize;
        while appended < target {
            let chunk = (target - appended).min(200_000);
            let requests = self.batches(&s, chunk, 100, |b| b % 16);
            let (_, errors, events, seconds) = drive(&self.url, &self.token, 16, requests)?;
            appended += chunk;
            eprintln!("memory run: {appended} events appended ({:.0}/s, {errors} errors)", events as f64 / seconds);
        }
        let total = self.client.get("/v1/head").map_err(|e| e.to_string())?.body["size"].as_u64().unwrap_or(0);
        Ok(self.pid.and_then(|p| {
            let rss_mb = status_kb(p, "VmRSS:")? / 1024.0;
            std::thread::sleep(std::time::Duration::from_secs(2));
            let idle_rss_mb = status_kb(p, "VmRSS:")? / 1024.0;
            Some(MemoryFigure { events: total, rss_mb, idle_rss_mb, peak_rss_mb: self.peak()? })
        }))
    }
}
