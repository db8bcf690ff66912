// The service allocates and frees many small objects from several threads (HTTP workers, the
// writer, sled's own); mimalloc keeps that faster and the resident set smaller than glibc's
// per-thread arenas do. Built without transparent huge pages (`no_thp`): faulting in 2 MiB pages
// the allocator had purged cost a twentieth of the CPU of a batch-append workload and inflated
// the resident set.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    lineage_ledger::cli::run();
}
