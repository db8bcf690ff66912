// The service allocates and frees many small objects from several threads (HTTP workers, the
// writer, sled's own); mimalloc keeps that faster and the resident set smaller than glibc's
// per-thread arenas do.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    lineage_ledger::cli::run();
}
